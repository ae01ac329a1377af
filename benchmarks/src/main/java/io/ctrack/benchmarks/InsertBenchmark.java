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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Inserts 1M distinct UDP connections into a fresh engine through the whole engine path (parse, checksum, key,
 * lookup miss, commit), 32 frames per batch, as Open vSwitch's {@code benchmark-zones} initial insert does.
 * {@code presized=true} reserves room for 1M connections first; {@code false} lets the table grow from 1024.
 * Score: ns per inserted connection.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, batchSize = 1)
@Measurement(iterations = 5, batchSize = 1)
@Fork(value = 1, jvmArgsAppend = { "-XX:+UseParallelGC", "-Xms2g", "-Xmx2g" })
public class InsertBenchmark
{
    static final int CONNECTIONS = 1 << 20;
    private static final int BATCH = 32;
    private static final int STRIDE = 64;

    @Param({ "true", "false" })
    public boolean presized;

    private UnsafeBuffer packets;
    private final FrameBatch frames = new FrameBatch(BATCH);
    private final ExecParams params = ExecParams.commit(0);
    private final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[BATCH * Verdict.LENGTH]);
    private Conntrack conntrack;

    @Setup(Level.Trial)
    public void packets()
    {
        packets = new UnsafeBuffer(new byte[CONNECTIONS * STRIDE]);
        for (int i = 0; i < CONNECTIONS; i++)
        {
            BenchPackets.udpDistinct(packets, i * STRIDE, i);
        }
    }

    @Setup(Level.Iteration)
    public void freshTable()
    {
        conntrack = new Conntrack(ConnTableConfig.of(0, 1024), FragConfig.DEFAULT);
        conntrack.limits().maxConns(CONNECTIONS * 2L);
        if (presized)
        {
            conntrack.table().reserve(CONNECTIONS);
        }
    }

    private double bytesPerConnection;

    /** Prints the table's memory per connection after the last iteration (JMH shows the forked VM's output). */
    @TearDown(Level.Trial)
    public void footprint()
    {
        System.out.printf("%ntable memory after %d inserts: %.1f bytes per connection (presized=%s)%n",
            CONNECTIONS, bytesPerConnection, presized);
    }

    @Benchmark
    @OperationsPerInvocation(CONNECTIONS)
    public int insert()
    {
        final long nowMs = 1_000_000;
        for (int i = 0; i < CONNECTIONS; i += BATCH)
        {
            frames.clear();
            for (int j = 0; j < BATCH; j++)
            {
                frames.add(packets, (i + j) * STRIDE, BenchPackets.FRAME_LENGTH);
            }
            conntrack.execute(frames, params, nowMs, verdicts, 0);
        }
        if (conntrack.table().size() != CONNECTIONS)
        {
            throw new IllegalStateException("expected " + CONNECTIONS + " connections, got " + conntrack.table().size());
        }
        bytesPerConnection = (double)conntrack.table().memoryBytes() / conntrack.table().size();
        return conntrack.table().size();
    }
}
