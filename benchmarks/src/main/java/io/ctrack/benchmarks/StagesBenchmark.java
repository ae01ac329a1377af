package io.ctrack.benchmarks;

import io.ctrack.engine.PacketPreprocessor;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.ConnKeyExtractor;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.table.LocalLimits;
import io.ctrack.engine.timeout.TimeoutPolicies;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The established-UDP path of {@link EstablishedUdpBenchmark} cut into its stages, one packet per operation:
 * frame parsing alone, parsing plus key extraction (checksums, hash), and the table's lookup and update of a
 * prepared request. Shows where the time of the whole path goes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = { "-XX:+UseParallelGC" })
public class StagesBenchmark
{
    private final UnsafeBuffer packet = new UnsafeBuffer(new byte[64]);
    private final FrameParser parser = new FrameParser();
    private final ParsedFrame frame = new ParsedFrame();
    private final ConnKeyExtractor extractor = new ConnKeyExtractor();
    private final CtRequest request = new CtRequest();
    private final ExecParams params = ExecParams.commit(0);
    private final Verdict verdict = new Verdict().wrap(new UnsafeBuffer(new byte[Verdict.LENGTH]), 0);
    private final PacketPreprocessor preprocessor = new PacketPreprocessor(FragConfig.DEFAULT, new EngineCounters());
    private final UnsafeBuffer requests = new UnsafeBuffer(new byte[CtRequest.LENGTH]);
    private final Verdict answer = new Verdict().wrap(new UnsafeBuffer(new byte[Verdict.LENGTH]), 0);
    private ConnTable table;
    private int length;

    @Setup
    public void setup()
    {
        length = BenchPackets.udp(packet, 0, 1, 2);
        table = new ConnTable(ConnTableConfig.of(0, 1024), new TimeoutPolicies(), new LocalLimits(), new EngineCounters());
        parser.parse(packet, 0, length, frame);
        extractor.extract(frame, 0, true, request);
        table.execute(request, params, 1_000_000, verdict);
    }

    @Benchmark
    public int parse()
    {
        parser.parse(packet, 0, length, frame);
        return frame.l4Offset();
    }

    @Benchmark
    public int parseAndExtract()
    {
        parser.parse(packet, 0, length, frame);
        return extractor.extract(frame, 0, true, request) + request.hash();
    }

    /**
     * What a packet thread does per packet before publishing (PacketWorker): parse, fragment check, key extraction
     * with checksums and hash ({@link PacketPreprocessor}), then the request written out in its wire form.
     */
    @Benchmark
    public int prepareAndWrite()
    {
        final int outcome = preprocessor.prepare(packet, 0, length, 0, 0, 1_000_000, request, answer);
        request.writeTo(requests, 0);
        return outcome + request.hash();
    }

    @Benchmark
    public int tableUpdate()
    {
        table.execute(request, params, 1_000_000, verdict);
        return verdict.ctState();
    }
}
