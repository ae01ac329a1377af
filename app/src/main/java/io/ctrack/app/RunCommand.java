package io.ctrack.app;

import com.typesafe.config.Config;
import io.ctrack.app.dpctl.AdminServer;
import io.ctrack.app.dpctl.Dpctl;
import io.ctrack.shards.NodeSettings;
import io.ctrack.shards.ShardedNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ctrack run}: a node on embedded defaults (its own Aeron media driver, a local actor system), with the
 * admin channel on loopback, until interrupted.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
        "Starts a ctrack node: an embedded Aeron media driver, the bucket actors and the admin channel on loopback",
        "(for 'ctrack dpctl'). Runs until interrupted (Ctrl-C), then stops and deletes its Aeron directory.",
        "Settings: reference.conf defaults (see README), a --config file, or -Dctrack.KEY=VALUE in CTRACK_JAVA_OPTS." })
public final class RunCommand implements Callable<Integer>
{
    @Option(names = "--config", paramLabel = "FILE", description = "HOCON file with a 'ctrack { ... }' section.")
    private Path configFile;

    @Option(names = "--for", paramLabel = "SECONDS", defaultValue = "0",
        description = "Stop after this many seconds (0, the default: run until interrupted).")
    private int seconds;

    @Override
    public Integer call() throws Exception
    {
        final Config config = NodeConfig.load(configFile);
        final NodeSettings settings = NodeConfig.settings(config);
        final String host = NodeConfig.adminHost(config);
        final int port = NodeConfig.adminPort(config);
        final CountDownLatch stop = new CountDownLatch(1);
        final ShardedNode.BucketHelp bucketHelp = NodeConfig.bucketHelp(config);
        try (ShardedNode node = ShardedNode.start(settings).bucketHelp(bucketHelp))
        {
            final io.ctrack.sweeper.Sweepers sweepers = io.ctrack.sweeper.Sweepers.start(node, NodeConfig.sweepSettings(config));
            final AdminServer admin;
            try
            {
                admin = new AdminServer(host, port, new Dpctl(node, sweepers));
            }
            catch (final BindException ex)
            {
                throw new UserError("admin port " + host + ":" + port + " is in use (is another node running? "
                    + "set ctrack.admin.port)");
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UserError(ex.getMessage());
            }
            catch (final IOException ex)
            {
                throw new UserError("cannot open the admin channel on " + host + ":" + port + ": " + ex);
            }
            final Thread hook = new Thread(stop::countDown, "ctrack-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.out.printf("ctrack node '%s' running: %d buckets on %d thread(s), admin on %s:%d, aeron dir %s%n",
                settings.name(), settings.buckets(), settings.bucketThreads(), host, admin.port(),
                settings.transport().aeronDir());
            System.out.println("try: ./ctrack dpctl ct-get-nconns   (Ctrl-C stops the node)");
            System.out.flush();
            try (admin)
            {
                if (seconds > 0)
                {
                    stop.await(seconds, java.util.concurrent.TimeUnit.SECONDS);
                }
                else
                {
                    stop.await();
                }
            }
            catch (final IOException ex)
            {
                // closing the admin socket: nothing to do
            }
            System.out.println("ctrack node '" + settings.name() + "' stopping");
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ex)
            {
                // already shutting down: the hook is running
            }
        }
        return 0;
    }
}
