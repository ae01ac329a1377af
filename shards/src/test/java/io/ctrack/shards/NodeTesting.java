package io.ctrack.shards;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static io.ctrack.engine.testing.Traffic.batchOf;
import static io.ctrack.engine.testing.Traffic.poisoned;
import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Starting, driving and closing nodes in tests. */
final class NodeTesting
{
    private static final AtomicInteger NEXT_NODE = new AtomicInteger();

    private NodeTesting()
    {
    }

    /** Defaults for {@code buckets} buckets under a name no other node of this JVM has. */
    static NodeSettings settings(final String prefix, final int buckets)
    {
        return NodeSettings.defaults(prefix + "-" + NEXT_NODE.incrementAndGet(), buckets);
    }

    /** {@code settings} with other transport sizes and timeouts (everything else as it was). */
    static NodeSettings withTransport(final NodeSettings settings, final int termLength, final long publishTimeoutNs,
        final long verdictTimeoutNs)
    {
        final io.ctrack.transport.TransportConfig t = settings.transport();
        return settings.withTransport(new io.ctrack.transport.TransportConfig(t.aeronDir(), t.embeddedDriver(),
            termLength, Math.min(t.mtu(), termLength / 8), t.batchStreamBase(), t.verdictStreamBase(), publishTimeoutNs,
            verdictTimeoutNs, t.driverInvoked()));
    }

    /** {@code settings(prefix, buckets)} with 8 KiB frames: a run's share for a bucket exceeds one message sooner. */
    static NodeSettings smallFrames(final String prefix, final int buckets)
    {
        final NodeSettings settings = settings(prefix, buckets);
        return settings.withTransport(settings.transport().withMtu(8192));
    }

    /** Closes the node (if started) and checks that its Aeron directory is gone. */
    static void close(final ShardedNode node)
    {
        if (node == null)
        {
            return;
        }
        final Path dir = node.settings().transport().aeronDir();
        node.close();
        assertFalse(Files.exists(dir), "Aeron directory left behind: " + dir);
    }


    /** Tracks {@code frames} in batches of at most {@code batchSize}; returns every verdict, in order. */
    static UnsafeBuffer track(final PacketWorker worker, final List<byte[]> frames, final ExecParams params,
        final long nowMs, final int batchSize)
    {
        final UnsafeBuffer all = poisoned(frames.size());
        for (int first = 0; first < frames.size(); first += batchSize)
        {
            final int n = Math.min(batchSize, frames.size() - first);
            worker.process(batchOf(frames.subList(first, first + n)), params, nowMs, all, first * Verdict.LENGTH);
        }
        return all;
    }

    /** Number of verdicts in {@code verdicts} (of {@code count}) that belong to a connection. */
    static int withConnection(final UnsafeBuffer verdicts, final int count)
    {
        int n = 0;
        for (int i = 0; i < count; i++)
        {
            n += verdict(verdicts, i).connId() != 0 ? 1 : 0;
        }
        return n;
    }

    /** Every line of a dump ({@code zone} &lt; 0: all zones), pulled chunk by chunk; {@code chunks} gets the count. */
    static List<String> dump(final ShardedNode node, final int zone, final AtomicInteger chunks)
    {
        final List<String> lines = new ArrayList<>();
        AdminActor.DumpChunk chunk = node.ask(replyTo -> new AdminActor.Dump(zone, replyTo));
        while (true)
        {
            if (chunks != null)
            {
                chunks.incrementAndGet();
            }
            lines.addAll(chunk.lines());
            if (chunk.last())
            {
                return lines;
            }
            chunk = AskPattern.<AdminActor.DumpNext, AdminActor.DumpChunk>ask(chunk.more(), AdminActor.DumpNext::new,
                Duration.ofSeconds(20), node.system().scheduler()).toCompletableFuture().join();
        }
    }

    static List<String> dump(final ShardedNode node, final int zone)
    {
        return dump(node, zone, null);
    }

    static long countConnections(final ShardedNode node)
    {
        final AdminActor.Result result = node.ask(AdminActor.CountConnections::new);
        assertTrue(result.ok(), result.text());
        return result.value();
    }

    static AdminActor.Result ok(final AdminActor.Result result)
    {
        assertTrue(result.ok(), "admin command failed: " + result.text());
        return result;
    }

    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for: " + what);
            }
            try
            {
                Thread.sleep(5);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for: " + what);
            }
        }
    }
}
