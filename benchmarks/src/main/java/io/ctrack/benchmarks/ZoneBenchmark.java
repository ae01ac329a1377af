package io.ctrack.benchmarks;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.table.ConnTableConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The engine-alone part of Open vSwitch's {@code benchmark-zones 1000 500}: a table holding 1000 connections in each
 * of 500 zones; zone 1 is flushed and refilled with commit. {@code flushFullZone} times the flush of zone 1's 1000
 * connections (the refill is setup), {@code commitZone} the refill (the flush is setup). Scores are µs per 1000
 * connections, the unit of the Open vSwitch table, to set beside the full-path figures of {@code bench zones}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = { "-XX:+UseParallelGC", "-Xms2g", "-Xmx2g" })
public class ZoneBenchmark
{
    private static final int CONNECTIONS = 1000;
    private static final int ZONES = 500;
    private static final int BATCH = 32;
    private static final int STRIDE = 64;

    /** The table with 500 zones of 1000 connections. */
    @State(Scope.Thread)
    public static class Table
    {
        private final UnsafeBuffer packets = new UnsafeBuffer(new byte[CONNECTIONS * STRIDE]);
        private final FrameBatch frames = new FrameBatch(BATCH);
        private final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[BATCH * Verdict.LENGTH]);
        private final ExecParams zone1 = ExecParams.commit(1);
        private Conntrack conntrack;

        @Setup(Level.Trial)
        public void fill()
        {
            for (int i = 0; i < CONNECTIONS; i++)
            {
                BenchPackets.udpDistinct(packets, i * STRIDE, i);
            }
            conntrack = new Conntrack(ConnTableConfig.of(0, 1024), FragConfig.DEFAULT);
            for (int zone = 0; zone < ZONES; zone++)
            {
                send(ExecParams.commit(zone));
            }
        }

        void send(final ExecParams params)
        {
            for (int i = 0; i < CONNECTIONS; i += BATCH)
            {
                frames.clear();
                for (int j = i; j < Math.min(CONNECTIONS, i + BATCH); j++)
                {
                    frames.add(packets, j * STRIDE, BenchPackets.FRAME_LENGTH);
                }
                conntrack.execute(frames, params, 1_000_000, verdicts, 0);
            }
        }

        int flushZone1()
        {
            return conntrack.table().flushZone(1, Integer.MAX_VALUE);
        }

        void expectZone1(final int expected)
        {
            if (conntrack.table().zoneSize(1) != expected)
            {
                throw new IllegalStateException("zone 1 holds " + conntrack.table().zoneSize(1) + ", expected " + expected);
            }
        }
    }

    /** Zone 1 full before each invocation. */
    @State(Scope.Thread)
    public static class Full
    {
        // The table this state filled: JMH may hand a benchmark method another instance of a shared state class
        // than it handed this setup, so the method reaches the table through here.
        Table table;

        @Setup(Level.Invocation)
        public void refill(final Table t)
        {
            table = t;
            t.send(t.zone1);
            t.expectZone1(CONNECTIONS);
        }
    }

    /** Zone 1 empty before each invocation. */
    @State(Scope.Thread)
    public static class Empty
    {
        Table table;

        @Setup(Level.Invocation)
        public void flush(final Table t)
        {
            table = t;
            t.flushZone1();
            t.expectZone1(0);
        }
    }

    @Benchmark
    public int flushFullZone(final Full full)
    {
        final int removed = full.table.flushZone1();
        if (removed != CONNECTIONS)
        {
            throw new IllegalStateException("flushed " + removed + ", expected " + CONNECTIONS);
        }
        return removed;
    }

    @Benchmark
    public int commitZone(final Empty empty)
    {
        empty.table.send(empty.table.zone1);
        return empty.table.conntrack.table().zoneSize(1);
    }
}
