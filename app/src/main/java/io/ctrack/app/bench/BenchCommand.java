package io.ctrack.app.bench;

import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;

/**
 * {@code ctrack bench ...}: benchmarks through the full path (packet worker, Aeron IPC, bucket actors, verdicts
 * back), never unit tests. Results go to {@code docs/BENCHMARKS.md} with the command that produced them.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks through the full sharded path (Open vSwitch's workloads, and more).",
    subcommands = { EstablishedBench.class, ZonesBench.class, InsertBench.class, FlushBench.class, SweepBench.class,
        NatBench.class, FirewallBench.class,
        CommandLine.HelpCommand.class })
public final class BenchCommand implements Runnable
{
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run()
    {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code p50 .. max} of a latency histogram recorded in nanoseconds, printed in microseconds. */
    static void printLatency(final PrintStream out, final String what, final Histogram h)
    {
        if (h.getTotalCount() == 0)
        {
            out.printf("%s: no samples%n", what);
            return;
        }
        out.printf("%s (us, %d samples): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f%n", what,
            h.getTotalCount(), h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3,
            h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
    }

    /** The node's back-pressure and drop counters, to see what a run ran into. */
    static void printPressure(final PrintStream out, final io.ctrack.shards.ShardedNode node)
    {
        final long[] c = node.counterTotals();
        out.printf("publish retries %d, batches held for verdict room %d, dropped: back-pressure %d, verdict timeout %d, bucket failure %d%n",
            c[io.ctrack.engine.status.EngineCounter.PUBLISH_RETRIES.id()],
            c[io.ctrack.engine.status.EngineCounter.VERDICT_BACK_PRESSURE.id()],
            c[io.ctrack.engine.status.EngineCounter.DROPPED_BACK_PRESSURE.id()],
            c[io.ctrack.engine.status.EngineCounter.DROPPED_VERDICT_TIMEOUT.id()],
            c[io.ctrack.engine.status.EngineCounter.DROPPED_BUCKET_FAILURE.id()]);
    }

    /** Prints progress at most every few seconds on long runs. */
    static final class Progress
    {
        private final PrintStream out;
        private final String what;
        private final long total;
        private long nextNs;

        Progress(final PrintStream out, final String what, final long total)
        {
            this.out = out;
            this.what = what;
            this.total = total;
            this.nextNs = System.nanoTime() + 3_000_000_000L;
        }

        void update(final long done)
        {
            final long now = System.nanoTime();
            if (now - nextNs > 0)
            {
                nextNs = now + 3_000_000_000L;
                out.printf("  ... %s: %d of %d (%.0f%%)%n", what, done, total, 100.0 * done / total);
                out.flush();
            }
        }
    }

    /** Sleeps {@code ms}, keeping the interrupt flag if interrupted. */
    static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
