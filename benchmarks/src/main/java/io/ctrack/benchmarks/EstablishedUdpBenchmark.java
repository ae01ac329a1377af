package io.ctrack.benchmarks;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The engine alone on Open vSwitch's {@code test-conntrack benchmark} workload: the same established UDP packet
 * (10.1.1.1:1 -> 10.1.1.2:2, committed, zone 0) in batches of 32, each packet parsed, its IPv4 header checksum
 * verified, its key extracted and hashed, looked up and its connection updated. Score: ns per packet.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = { "-XX:+UseParallelGC" })
public class EstablishedUdpBenchmark
{
    private static final int BATCH = 32;

    @Param({ "32" })
    public int batch;

    private Conntrack conntrack;
    private FrameBatch frames;
    private final ExecParams params = ExecParams.commit(0);
    private final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[BATCH * Verdict.LENGTH]);
    private long nowMs;

    @Setup
    public void setup()
    {
        conntrack = new Conntrack();
        final UnsafeBuffer packets = new UnsafeBuffer(new byte[BATCH * 64]);
        frames = new FrameBatch(BATCH);
        for (int i = 0; i < batch; i++)
        {
            frames.add(packets, i * 64, BenchPackets.udp(packets, i * 64, 1, 2));
        }
        nowMs = 1_000_000;
        conntrack.execute(frames, params, nowMs, verdicts, 0);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int established()
    {
        conntrack.execute(frames, params, nowMs, verdicts, 0);
        return verdicts.getByte(0);
    }
}
