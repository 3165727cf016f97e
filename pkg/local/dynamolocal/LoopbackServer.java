// LoopbackServer runs DynamoDB Local listening on one address only.
//
// DynamoDB Local's command line has no host option: its Jetty server binds
// every interface. This launcher builds the server exactly as the jar's own
// main does (ServerRunner.createServerFromCommandLineArgs, the same
// arguments), sets the host of its connectors, and starts it. Start
// (server.go) runs it as a single-file source program:
//
//	java -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* LoopbackServer.java <host> <DynamoDB Local's arguments>
import java.lang.reflect.Field;
import java.util.Arrays;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackServer {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LoopbackServer <host> [DynamoDB Local arguments]");
            System.exit(2);
        }
        String host = args[0];
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(Arrays.copyOfRange(args, 1, args.length));
        Field f = DynamoDBProxyServer.class.getDeclaredField("server");
        f.setAccessible(true);
        Server server = (Server) f.get(proxy);
        int bound = 0;
        for (Connector c : server.getConnectors()) {
            if (c instanceof ServerConnector sc) {
                sc.setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            // Never fall back to every interface.
            System.err.println("LoopbackServer: DynamoDB Local has no connector to bind to " + host);
            System.exit(1);
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on " + host + " only");
    }
}
