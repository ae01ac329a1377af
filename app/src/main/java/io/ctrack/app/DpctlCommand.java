package io.ctrack.app;

import io.ctrack.app.dpctl.AdminServer;
import io.ctrack.app.dpctl.Dpctl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ctrack dpctl COMMAND [ARG]...}: Open vSwitch's {@code ovs-dpctl} conntrack commands against a running node.
 */
@Command(
    name = "dpctl",
    mixinStandardHelpOptions = true,
    description = { "Runs an ovs-dpctl conntrack command against a running node (ctrack run), over its loopback admin channel.",
        "", Dpctl.USAGE })
public final class DpctlCommand implements Callable<Integer>
{
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Admin host (default ${DEFAULT-VALUE}).")
    private String host;

    @Option(names = "--port", defaultValue = "16640", description = "Admin port (default ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = { "-m", "--more" }, description = "dump-conntrack: more detail (id, status, TCP peers).")
    private boolean more;

    @Option(names = { "-s", "--statistics" },
        description = "dump-conntrack: the seconds left before each connection expires.")
    private boolean statistics;

    @Parameters(paramLabel = "COMMAND [ARG]", arity = "1..*", description = "A dpctl command and its arguments.")
    private List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws IOException
    {
        final PrintWriter out = new PrintWriter(System.out, false);
        final String error;
        try
        {
            // The node takes options after the command name, as ovs-appctl's dpctl commands do.
            final List<String> request = new ArrayList<>(args);
            if (statistics)
            {
                request.add(1, "--statistics");
            }
            if (more)
            {
                request.add(1, "--more");
            }
            error = AdminServer.call(host, port, request, out::println);
        }
        catch (final ConnectException ex)
        {
            throw new UserError("no ctrack node answers on " + host + ":" + port + " (start one with './ctrack run')");
        }
        finally
        {
            out.flush();
        }
        if (error != null)
        {
            throw new UserError(error);
        }
        return 0;
    }
}
