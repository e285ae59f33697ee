/**
 * The Route53 health check settings every region's `/health` is polled with, in one module without @pulumi imports,
 * so that both the deployed health checks (components/globalRouting.ts) and the local emulator's global endpoint
 * (local/router.ts, which scales them down) read the same values and cannot drift apart.
 * Route53's answer rules, which are not settings (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html):
 * an HTTP(S) checker must connect within 4 s and get a 2xx/3xx status within 2 s after connecting.
 */

/** aws.route53.HealthCheck inputs shared by every region (requestInterval in seconds). */
export const HEALTH_CHECK = { type: 'HTTPS', port: 443, enableSni: true, failureThreshold: 3, requestInterval: 30 } as const;

/** Route53's per-checker deadlines for an HTTP(S) health check (see header). */
export const ROUTE53_CONNECT_WITHIN_MS = 4_000;
export const ROUTE53_ANSWER_WITHIN_MS = 2_000;
