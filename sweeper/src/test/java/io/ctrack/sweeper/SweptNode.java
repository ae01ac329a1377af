package io.ctrack.sweeper;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.LatencyHistogram;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.shards.AdminActor;
import io.ctrack.shards.NodeSettings;
import io.ctrack.shards.ShardedNode;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A node with sweepers whose clock the test drives, and a worker that tracks packets at times the test gives.
 * The sweepers step every few wall-clock milliseconds; {@link #sweepAt} moves the clock and waits until every
 * bucket has done a step that started at the new time, so what a test checks afterwards is what one sweep at that
 * time left.
 */
final class SweptNode implements AutoCloseable
{
    /** A start time on a wheel-slot boundary, far from 0 (as a wall clock would be). */
    static final long T0 = 1_700_000_000_000L;
    private static final AtomicInteger NEXT_NODE = new AtomicInteger();

    final ShardedNode node;
    final AtomicLong clock = new AtomicLong(T0);
    final Sweepers sweepers;
    final PacketWorker worker;

    private SweptNode(final ShardedNode node, final SweepSettings settings)
    {
        this.node = node;
        this.sweepers = Sweepers.start(node, settings, clock::get);
        this.worker = node.newWorker(4);
    }

    /** Defaults for {@code buckets} buckets under a name no other node of this JVM has. */
    static NodeSettings settings(final String prefix, final int buckets)
    {
        return NodeSettings.defaults(prefix + "-" + NEXT_NODE.incrementAndGet(), buckets);
    }

    static SweptNode start(final NodeSettings settings, final SweepSettings sweep)
    {
        final ShardedNode node = ShardedNode.start(settings);
        try
        {
            return new SweptNode(node, sweep);
        }
        catch (final RuntimeException ex)
        {
            node.close();
            throw ex;
        }
    }

    long slotMs()
    {
        return node.settings().wheelSlotMs();
    }

    /** The end of the wheel slot {@code expirationMs} falls in: a sweep at this time or later removes it. */
    long slotEnd(final long expirationMs)
    {
        return Math.floorDiv(expirationMs, slotMs()) * slotMs() + slotMs();
    }

    /** Tracks {@code frames} (one batch) at {@code nowMs}; returns the verdicts. */
    UnsafeBuffer track(final List<byte[]> frames, final ExecParams params, final long nowMs)
    {
        final FrameBatch batch = new FrameBatch(frames.size());
        for (final byte[] frame : frames)
        {
            batch.add(TestPackets.buffer(frame), 0, frame.length);
        }
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[frames.size() * Verdict.LENGTH]);
        worker.process(batch, params, nowMs, verdicts, 0);
        return verdicts;
    }

    static Verdict verdict(final UnsafeBuffer verdicts, final int index)
    {
        return new Verdict().wrap(verdicts, index * Verdict.LENGTH);
    }

    /** Moves the sweepers' clock to {@code nowMs} and waits until every bucket has swept at that time. */
    void sweepAt(final long nowMs)
    {
        clock.set(nowMs);
        // A step may be in flight with the old time: two more steps per bucket means one started at the new time.
        final long[] before = new long[node.buckets()];
        for (int b = 0; b < before.length; b++)
        {
            before[b] = node.bucketCounter(b, EngineCounter.SWEEP_STEPS);
        }
        await(() ->
        {
            for (int b = 0; b < before.length; b++)
            {
                if (node.bucketCounter(b, EngineCounter.SWEEP_STEPS) < before[b] + 2)
                {
                    return false;
                }
            }
            return true;
        }, "every bucket sweeping at " + (nowMs - T0) + " ms after T0");
    }

    /** Connections in the tables (expired ones not swept yet included). */
    long count()
    {
        final AdminActor.Result result = node.ask(AdminActor.CountConnections::new);
        assertTrue(result.ok(), result.text());
        return result.value();
    }

    long total(final EngineCounter counter)
    {
        return node.counterTotals()[counter.id()];
    }

    /** Largest expiry lateness of any swept connection (ms); {@code histogram} gets the bucket counts. */
    long maxLatenessMs(final long[] histogram)
    {
        return node.lateness(histogram);
    }

    static long[] latenessHistogram()
    {
        return new long[LatencyHistogram.buckets()];
    }

    AdminActor.Result admin(final org.apache.pekko.japi.function.Function<
        org.apache.pekko.actor.typed.ActorRef<AdminActor.Result>, AdminActor.Command> command)
    {
        final AdminActor.Result result = node.ask(command);
        assertTrue(result.ok(), "admin command failed: " + result.text());
        return result;
    }

    @Override
    public void close()
    {
        final Path dir = node.settings().transport().aeronDir();
        node.close();
        assertFalse(Files.exists(dir), "Aeron directory left behind: " + dir);
    }

    /** Waits (wall clock, for actor scheduling only) until {@code condition} holds. */
    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for: " + what);
            }
            LockSupport.parkNanos(200_000);
        }
    }
}
