// Starts DynamoDB Local bound to 127.0.0.1 only. DynamoDB Local has a -port option but no bind address and
// listens on every interface; this launcher builds the server exactly as `java -jar DynamoDBLocal.jar` does
// (same command-line options), then sets the host of its Jetty connectors to the loopback address before
// starting it. It also exits when its stdin closes (its parent died), so a killed test run or emulator never leaves
// a JVM behind. Compiled against DynamoDBLocal.jar by local/dynamodbLocal.ts.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      if (connector instanceof ServerConnector) {
        ((ServerConnector) connector).setHost("127.0.0.1");
      }
    }
    // Exit with the parent: it holds our stdin open, so end-of-file means it is gone, even if it was killed -9.
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // nothing is ever sent; keep reading until the pipe closes
        }
      } catch (java.io.IOException ignored) {
        // a broken pipe means the same
      }
      System.exit(0);
    });
    watchdog.setDaemon(true);
    watchdog.start();
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1");
    proxy.join();
  }
}
