#!/usr/bin/env python3
"""
Extracts, from botocore's copy of AWS's service models, the min/max/pattern that AWS's API declares for the
request members this Pulumi program sets (names, descriptions, paths...), and where each service has a regional
endpoint. Writes config/aws-constraints.json, which test/unit/constraints.test.ts reads (so CI needs neither
Python nor botocore).

    python3 scripts/extract-aws-constraints.py [output.json]

Needs botocore importable (Debian: apt-get install python3-botocore; or pip). The output records the botocore
version, its path and the date, because both the limits and the region lists change over time. Use a recent
botocore: Debian 12's 1.29.27 (December 2022) still has IAM's old description pattern (\p{L}\p{M}..., which
accepts '→' although IAM refuses it today) and lists AppSync in 22 regions only; the committed file comes from
botocore 1.43.11, and test/unit/constraints.test.ts refuses a file with the old IAM pattern.
"""
import datetime
import json
import os
import sys

import botocore
import botocore.session

# (service, operation, member path): one entry per request member the program sets. Paths go through
# structures with '.', through lists/maps with '[]' (list member) or '{}' (map value) / '{key}' (map key).
MEMBERS = [
    ("iam", "CreateRole", "RoleName"),
    ("iam", "CreateRole", "Description"),
    ("iam", "CreateRole", "Path"),
    ("iam", "PutRolePolicy", "PolicyName"),
    ("iam", "PutRolePolicy", "PolicyDocument"),
    ("iam", "CreateRole", "AssumeRolePolicyDocument"),
    ("lambda", "CreateFunction", "FunctionName"),
    ("lambda", "CreateFunction", "Description"),
    ("lambda", "CreateFunction", "Handler"),
    ("lambda", "CreateFunction", "Timeout"),
    ("lambda", "CreateFunction", "MemorySize"),
    ("lambda", "CreateFunction", "Environment.Variables{key}"),
    ("lambda", "AddPermission", "StatementId"),
    ("lambda", "CreateFunction", "Layers[]"),
    # the FIS experiment templates (`drills`)
    ("fis", "CreateExperimentTemplate", "description"),
    ("fis", "CreateExperimentTemplate", "actions{key}"),
    ("fis", "CreateExperimentTemplate", "actions{}.actionId"),
    ("fis", "CreateExperimentTemplate", "actions{}.parameters{}"),
    ("fis", "CreateExperimentTemplate", "targets{key}"),
    ("fis", "CreateExperimentTemplate", "targets{}.resourceType"),
    ("fis", "CreateExperimentTemplate", "targets{}.selectionMode"),
    ("fis", "CreateExperimentTemplate", "stopConditions[].source"),
    ("fis", "CreateExperimentTemplate", "stopConditions[].value"),
    ("s3", "CreateBucket", "Bucket"),
    ("logs", "CreateLogGroup", "logGroupName"),
    ("logs", "PutRetentionPolicy", "retentionInDays"),
    ("sqs", "CreateQueue", "QueueName"),
    ("sns", "CreateTopic", "Name"),
    ("appsync", "CreateGraphqlApi", "name"),
    ("appsync", "CreateDataSource", "name"),
    ("appsync", "CreateDataSource", "description"),
    ("appsync", "CreateFunction", "name"),
    ("appsync", "CreateFunction", "description"),
    ("appsync", "CreateApiKey", "description"),
    ("appsync", "CreateResolver", "typeName"),
    ("appsync", "CreateResolver", "fieldName"),
    ("appsync", "CreateResolver", "code"),
    ("apigateway", "CreateRestApi", "name"),
    ("apigateway", "CreateStage", "stageName"),
    ("apigateway", "CreateDeployment", "description"),
    ("apigateway", "CreateResource", "pathPart"),
    ("apigateway", "CreateDomainName", "domainName"),
    ("route53", "CreateHealthCheck", "HealthCheckConfig.ResourcePath"),
    ("route53", "CreateHealthCheck", "HealthCheckConfig.FullyQualifiedDomainName"),
    ("route53", "ChangeTagsForResource", "AddTags[].Key"),
    ("route53", "ChangeTagsForResource", "AddTags[].Value"),
    ("route53", "ChangeResourceRecordSets", "ChangeBatch.Changes[].ResourceRecordSet.Name"),
    ("route53", "ChangeResourceRecordSets", "ChangeBatch.Changes[].ResourceRecordSet.SetIdentifier"),
    ("route53", "ChangeResourceRecordSets", "ChangeBatch.Changes[].ResourceRecordSet.TTL"),
    ("cloudwatch", "PutMetricAlarm", "AlarmName"),
    ("cloudwatch", "PutMetricAlarm", "AlarmDescription"),
    ("cloudwatch", "PutMetricAlarm", "Dimensions[].Value"),
    ("acm", "RequestCertificate", "DomainName"),
    ("dynamodb", "CreateTable", "TableName"),
    ("apigateway", "CreateApiKey", "value"),
    ("apigateway", "CreateApiKey", "name"),
    ("apigateway", "CreateUsagePlan", "name"),
    ("apigateway", "CreateAuthorizer", "name"),
    ("apigateway", "CreateAuthorizer", "authorizerResultTtlInSeconds"),
    ("apigateway", "CreateStage", "variables{key}"),
    ("apigateway", "CreateStage", "variables{}"),
    ("wafv2", "CreateWebACL", "Name"),
    ("wafv2", "CreateWebACL", "Description"),
    ("wafv2", "CreateWebACL", "Rules[].Name"),
    ("wafv2", "CreateWebACL", "Rules[].Statement.RateBasedStatement.Limit"),
    ("wafv2", "CreateWebACL", "Rules[].Statement.ManagedRuleGroupStatement.Name"),
    ("wafv2", "CreateWebACL", "Rules[].VisibilityConfig.MetricName"),
    ("wafv2", "CreateWebACL", "VisibilityConfig.MetricName"),
    ("wafv2", "PutLoggingConfiguration", "LoggingConfiguration.LogDestinationConfigs[]"),
    ("wafv2", "CreateWebACL", "Rules[].Statement.RateBasedStatement.EvaluationWindowSec"),
    # tags, per service: the operation that creates (or tags) the resource, key and value
    ("s3control", "TagResource", "Tags[].Key"),
    ("s3control", "TagResource", "Tags[].Value"),
    ("s3", "PutBucketTagging", "Tagging.TagSet[].Key"),
    ("s3", "PutBucketTagging", "Tagging.TagSet[].Value"),
    ("fis", "CreateExperimentTemplate", "tags{key}"),
    ("fis", "CreateExperimentTemplate", "tags{}"),
    ("wafv2", "CreateWebACL", "Tags[].Key"),
    ("wafv2", "CreateWebACL", "Tags[].Value"),
    ("iam", "CreateRole", "Tags[].Key"),
    ("iam", "CreateRole", "Tags[].Value"),
    ("lambda", "CreateFunction", "Tags{key}"),
    ("lambda", "CreateFunction", "Tags{}"),
    ("lambda", "CreateFunction", "Environment.Variables"),
    ("sqs", "CreateQueue", "tags{key}"),
    ("sqs", "CreateQueue", "tags{}"),
    ("sns", "CreateTopic", "Tags[].Key"),
    ("sns", "CreateTopic", "Tags[].Value"),
    ("logs", "CreateLogGroup", "tags{key}"),
    ("logs", "CreateLogGroup", "tags{}"),
    ("cloudwatch", "PutMetricAlarm", "Tags[].Key"),
    ("cloudwatch", "PutMetricAlarm", "Tags[].Value"),
    ("cloudwatch", "PutDashboard", "DashboardName"),
    ("cloudwatch", "PutDashboard", "DashboardBody"),
    ("dynamodb", "CreateTable", "Tags[].Key"),
    ("dynamodb", "CreateTable", "Tags[].Value"),
    ("appsync", "CreateGraphqlApi", "tags{key}"),
    ("appsync", "CreateGraphqlApi", "tags{}"),
    ("apigateway", "CreateRestApi", "tags{key}"),
    ("apigateway", "CreateRestApi", "tags{}"),
    ("acm", "RequestCertificate", "Tags[].Key"),
    ("acm", "RequestCertificate", "Tags[].Value"),
    # usage plans and stage throttling: types and the quota period's enumeration
    ("apigateway", "CreateUsagePlan", "throttle.rateLimit"),
    ("apigateway", "CreateUsagePlan", "throttle.burstLimit"),
    ("apigateway", "CreateUsagePlan", "quota.limit"),
    ("apigateway", "CreateUsagePlan", "quota.offset"),
    ("apigateway", "CreateUsagePlan", "quota.period"),
    # enumerations of inputs the provider declares as a plain string (test/unit/providerSchema.ts, STRING_ENUMS)
    ("dynamodb", "CreateTable", "BillingMode"),
    ("dynamodb", "CreateTable", "StreamSpecification.StreamViewType"),
    ("dynamodb", "CreateTable", "AttributeDefinitions[].AttributeType"),
    ("dynamodb", "UpdateTable", "MultiRegionConsistency"),
    ("lambda", "CreateEventSourceMapping", "StartingPosition"),
    ("lambda", "CreateEventSourceMapping", "FunctionResponseTypes[]"),
    ("lambda", "CreateFunction", "Architectures[]"),
    ("lambda", "CreateFunction", "LoggingConfig.LogFormat"),
    ("lambda", "CreateFunction", "TracingConfig.Mode"),
    ("apigateway", "CreateAuthorizer", "type"),
    ("apigateway", "CreateRestApi", "endpointConfiguration.types[]"),
    ("apigateway", "CreateDomainName", "endpointConfiguration.types[]"),
    ("apigateway", "CreateDomainName", "securityPolicy"),
    ("apigateway", "PutIntegration", "type"),
    ("appsync", "CreateDataSource", "type"),
    ("appsync", "CreateFunction", "runtime.name"),
    ("appsync", "CreateResolver", "runtime.name"),
    ("appsync", "CreateResolver", "kind"),
    ("appsync", "CreateGraphqlApi", "authenticationType"),
    ("appsync", "CreateGraphqlApi", "additionalAuthenticationProviders[].authenticationType"),
    ("appsync", "CreateGraphqlApi", "logConfig.fieldLogLevel"),
    ("appsync", "CreateGraphqlApi", "userPoolConfig.defaultAction"),
    ("cloudwatch", "PutMetricAlarm", "ComparisonOperator"),
    ("cloudwatch", "PutMetricAlarm", "Statistic"),
    ("acm", "RequestCertificate", "KeyAlgorithm"),
    ("acm", "RequestCertificate", "ValidationMethod"),
    ("route53", "CreateHealthCheck", "HealthCheckConfig.Type"),
    ("route53", "CreateHealthCheck", "HealthCheckConfig.Regions[]"),
    ("route53", "ChangeResourceRecordSets", "ChangeBatch.Changes[].ResourceRecordSet.Region"),
    ("wafv2", "CreateWebACL", "Scope"),
    ("wafv2", "CreateWebACL", "Rules[].Statement.RateBasedStatement.AggregateKeyType"),
    ("wafv2", "PutLoggingConfiguration", "LoggingConfiguration.LoggingFilter.DefaultBehavior"),
    ("wafv2", "PutLoggingConfiguration", "LoggingConfiguration.LoggingFilter.Filters[].Behavior"),
    ("wafv2", "PutLoggingConfiguration", "LoggingConfiguration.LoggingFilter.Filters[].Requirement"),
    ("wafv2", "PutLoggingConfiguration", "LoggingConfiguration.LoggingFilter.Filters[].Conditions[].ActionCondition.Action"),
]

# services whose regional availability the program depends on (botocore endpoint prefixes)
SERVICES = ["appsync", "apigateway", "lambda", "dynamodb", "sqs", "sns", "logs", "monitoring", "acm", "xray", "iam", "sts", "route53", "wafv2"]


def walk(shape, path):
    for part in [p for p in path.replace("[]", ".[]").replace("{key}", ".{key}").replace("{}", ".{}").split(".") if p]:
        if part == "[]":
            shape = shape.member
        elif part == "{key}":
            shape = shape.key
        elif part == "{}":
            shape = shape.value
        else:
            shape = shape.members[part]
    return shape


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "config", "aws-constraints.json")
    session = botocore.session.get_session()
    members = {}
    for service, operation, path in MEMBERS:
        model = session.get_service_model(service)
        shape = walk(model.operation_model(operation).input_shape, path)
        meta = shape.metadata
        members[f"{service}:{operation}.{path}"] = {
            "service": service,
            "apiVersion": model.api_version,
            "operation": operation,
            "member": path,
            "shape": shape.name,
            "type": shape.type_name,
            **({"min": meta["min"]} if "min" in meta else {}),
            **({"max": meta["max"]} if "max" in meta else {}),
            **({"pattern": meta["pattern"]} if "pattern" in meta else {}),
            **({"enum": list(shape.enum)} if getattr(shape, "enum", None) else {}),
        }
    endpoints = session.get_data("endpoints")
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    regions = {}
    for service in SERVICES:
        svc = aws["services"].get(service, {})
        regions[service] = {
            "global": svc.get("isRegionalized") is False or "partitionEndpoint" in svc and not any(r in aws["regions"] for r in svc.get("endpoints", {})),
            "regions": sorted(r for r in svc.get("endpoints", {}) if r in aws["regions"]),
        }
    doc = {
        "source": "botocore service models (AWS's API definitions) and endpoints.json, extracted by scripts/extract-aws-constraints.py",
        "botocore": botocore.__version__,
        "botocorePath": os.path.dirname(botocore.__file__),
        "extracted": datetime.date.today().isoformat(),
        "members": members,
        "serviceRegions": regions,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{out_path}: {len(members)} members, {len(regions)} services (botocore {botocore.__version__})")


if __name__ == "__main__":
    main()
