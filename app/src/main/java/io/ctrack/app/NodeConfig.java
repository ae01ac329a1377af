package io.ctrack.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.shards.NodeSettings;
import io.ctrack.transport.TransportConfig;

import java.io.File;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Reads the {@code ctrack} section of the HOCON configuration (defaults in {@code reference.conf}) into node
 * settings. A bad value is a {@link UserError} naming the key.
 */
final class NodeConfig
{
    private NodeConfig()
    {
    }

    /** The configuration: {@code file} (if given) over -D overrides over the defaults. */
    static Config load(final Path file)
    {
        ConfigFactory.invalidateCaches();
        final Config base = ConfigFactory.load();
        if (file == null)
        {
            return base;
        }
        final File f = file.toFile();
        if (!f.isFile())
        {
            throw new UserError(file + ": no such config file");
        }
        try
        {
            return ConfigFactory.systemProperties().withFallback(ConfigFactory.parseFile(f)).withFallback(base).resolve();
        }
        catch (final ConfigException ex)
        {
            throw new UserError(file + ": " + ex.getMessage());
        }
    }

    static NodeSettings settings(final Config config)
    {
        try
        {
            final Config c = config.getConfig("ctrack");
            final String name = c.getString("node-name");
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9-]*"))
            {
                throw new UserError("ctrack.node-name must be letters, digits and '-', got '" + name + "'");
            }
            final int buckets = c.getInt("buckets");
            if (buckets < 1 || buckets > 1024 || Integer.bitCount(buckets) != 1)
            {
                throw new UserError("ctrack.buckets must be a power of two from 1 to 1024, got " + buckets);
            }
            final Config aeron = c.getConfig("aeron");
            final TransportConfig defaults = TransportConfig.embedded(name);
            final String dir = aeron.getString("dir");
            final TransportConfig transport = new TransportConfig(
                dir.isEmpty() ? defaults.aeronDir() : Path.of(dir),
                aeron.getBoolean("embedded-driver"),
                (int)aeron.getBytes("term-length").longValue(),
                (int)aeron.getBytes("mtu").longValue(),
                defaults.batchStreamBase(),
                defaults.verdictStreamBase(),
                aeron.getDuration("publish-timeout", TimeUnit.NANOSECONDS),
                aeron.getDuration("verdict-timeout", TimeUnit.NANOSECONDS),
                driverInvoked(aeron.getString("driver-threading")));
            final Config fragments = c.getConfig("fragments");
            final FragConfig frag = new FragConfig(fragments.getInt("max-fragments"), fragments.getInt("slot-bytes"),
                FragConfig.DEFAULT.minV4FragSize(), FragConfig.DEFAULT.minV6FragSize(),
                FragConfig.DEFAULT.maxFragsPerList(), FragConfig.DEFAULT.listTimeoutMs());
            return new NodeSettings(name, Integer.numberOfTrailingZeros(buckets), c.getInt("bucket-capacity"),
                c.getInt("bucket-threads"), c.getInt("batches-per-drain"),
                c.getDuration("idle-spin", TimeUnit.NANOSECONDS), c.getInt("expiry.wheel-slots"),
                c.getDuration("expiry.slot", TimeUnit.MILLISECONDS), c.getLong("max-conns"), transport, frag);
        }
        catch (final ConfigException | IllegalArgumentException ex)
        {
            throw new UserError("bad configuration: " + ex.getMessage());
        }
    }

    private static boolean driverInvoked(final String threading)
    {
        return switch (threading)
        {
            case "invoker" -> true;
            case "shared" -> false;
            default -> throw new UserError("ctrack.aeron.driver-threading must be 'invoker' or 'shared', got '"
                + threading + "'");
        };
    }

    /** {@code ctrack.bucket-help}: auto, on or off. */
    static io.ctrack.shards.ShardedNode.BucketHelp bucketHelp(final Config config)
    {
        try
        {
            return io.ctrack.shards.ShardedNode.BucketHelp.parse(config.getString("ctrack.bucket-help"));
        }
        catch (final ConfigException | IllegalArgumentException ex)
        {
            throw new UserError("bad configuration: ctrack.bucket-help: " + ex.getMessage());
        }
    }

    static io.ctrack.sweeper.SweepSettings sweepSettings(final Config config)
    {
        try
        {
            final Config c = config.getConfig("ctrack.sweeper");
            return new io.ctrack.sweeper.SweepSettings(c.getDuration("interval", TimeUnit.MILLISECONDS),
                c.getDuration("min-interval", TimeUnit.MILLISECONDS), c.getInt("budget"));
        }
        catch (final ConfigException | IllegalArgumentException ex)
        {
            throw new UserError("bad configuration: " + ex.getMessage());
        }
    }

    static String adminHost(final Config config)
    {
        try
        {
            return config.getString("ctrack.admin.host");
        }
        catch (final ConfigException ex)
        {
            throw new UserError("bad configuration: " + ex.getMessage());
        }
    }

    static int adminPort(final Config config)
    {
        try
        {
            final int port = config.getInt("ctrack.admin.port");
            if (port < 0 || port > 65535)
            {
                throw new UserError("ctrack.admin.port must be 0-65535, got " + port);
            }
            return port;
        }
        catch (final ConfigException ex)
        {
            throw new UserError("bad configuration: " + ex.getMessage());
        }
    }
}
