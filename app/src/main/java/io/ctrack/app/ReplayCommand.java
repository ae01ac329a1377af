package io.ctrack.app;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.pcap.PcapFormatException;
import io.ctrack.engine.pcap.PcapReader;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ctrack replay FILE}: every packet of a capture through the tracker with commit, one line per packet as
 * Open vSwitch's {@code test-conntrack pcap} prints it.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
        "Tracks every packet of a pcap file (commit, zone 0 unless --zone) and prints one line per packet,",
        "'N: flags' with flags in the order new est rel rpl inv trk snat dnat, '0' for a packet with no state",
        "(a fragment held for reassembly), exactly as Open vSwitch's 'test-conntrack pcap' does." })
public final class ReplayCommand implements Callable<Integer>
{
    @Parameters(index = "0", paramLabel = "FILE", description = "Classic pcap file of Ethernet frames.")
    private Path file;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
        description = "Packets per batch, 1-1024 (default ${DEFAULT-VALUE}). Fragments completed within a batch "
            + "give their verdict to every fragment of the batch.")
    private int batch;

    @Option(names = "--zone", paramLabel = "Z", defaultValue = "0", description = "Conntrack zone, 0-65535 (default ${DEFAULT-VALUE}).")
    private int zone;

    @Option(names = "--dump", description = "After the packets, print the connection table as 'ovs-dpctl dump-conntrack' does (lines sorted).")
    private boolean dump;

    @Option(names = "--engine", paramLabel = "sharded|embedded", defaultValue = "sharded",
        description = "'sharded' (default): through a node on embedded defaults: packet worker, Aeron IPC, bucket "
            + "actors; 'embedded': one table on the calling thread.")
    private String engine;

    @Option(names = "--buckets", paramLabel = "N", defaultValue = "4",
        description = "Buckets of the sharded engine, a power of two 1-1024 (default ${DEFAULT-VALUE}).")
    private int buckets;

    @Option(names = "--clock", paramLabel = "wall|pcap", defaultValue = "wall",
        description = "Time source: 'wall' (each batch at the wall clock, as Open vSwitch's harness) or 'pcap' "
            + "(each batch at its first packet's capture time, so timeouts play out as on the wire). Default ${DEFAULT-VALUE}.")
    private String clock;

    @Option(names = "--nat", paramLabel = "SPEC",
        description = "NAT action applied on commit, in Open vSwitch's syntax: 'src=ADDR[-ADDR][:PORT[-PORT]][,random|hash][,persistent]', "
            + "'dst=...', or 'nat(...)'. New connections get it; packets of translated connections are rewritten.")
    private String nat;

    @Option(names = "--force",
        description = "ct(commit,force): a packet in the reply direction of a committed connection ends it and starts "
            + "a new one in its own direction, as Open vSwitch's force does.")
    private boolean force;

    @Option(names = "--no-tcp-seq-chk",
        description = "TCP sequence checking off, as 'ovs-appctl dpctl/ct-disable-tcp-seq-chk': segments are not "
            + "checked against the peers' windows.")
    private boolean noTcpSeqCheck;

    @Option(names = "--flows", paramLabel = "FLOWS",
        description = "Run every packet through a pipeline of flow tables (Open vSwitch flow syntax; a file, or 'firewall' "
            + "for the built-in classic firewall) and print its final action after its ct_state.")
    private String flows;

    @Option(names = "--pipeline", paramLabel = "single-pass|recirculate", defaultValue = "single-pass",
        description = "How --flows runs: 'single-pass' (the bucket evaluates the post-ct table and commits in the same "
            + "visit; default) or 'recirculate' (Open vSwitch's: every ct is a trip).")
    private String pipelineMode;

    @Option(names = "--in-port", paramLabel = "N[,CIDR=N]...", defaultValue = "1",
        description = "Input port of the packets for --flows: a default, then optional source-address rules, e.g. "
            + "'1,10.200.1.2/32=2' (the first rule the source matches wins). Default ${DEFAULT-VALUE}.")
    private String inPort;

    @Option(names = "--write", paramLabel = "OUT.pcap",
        description = "Write every packet, as tracked (rewritten by NAT), to this pcap file, with its capture time.")
    private Path write;

    @Override
    public Integer call() throws IOException
    {
        if (batch < 1 || batch > 1024)
        {
            throw new UserError("--batch must be 1-1024, got " + batch);
        }
        if (zone < 0 || zone > 0xFFFF)
        {
            throw new UserError("--zone must be 0-65535, got " + zone);
        }
        final boolean pcapClock;
        switch (clock)
        {
            case "wall" -> pcapClock = false;
            case "pcap" -> pcapClock = true;
            default -> throw new UserError("--clock must be 'wall' or 'pcap', got '" + clock + "'");
        }
        if (!engine.equals("sharded") && !engine.equals("embedded"))
        {
            throw new UserError("--engine must be 'sharded' or 'embedded', got '" + engine + "'");
        }
        if (buckets < 1 || buckets > 1024 || Integer.bitCount(buckets) != 1)
        {
            throw new UserError("--buckets must be a power of two from 1 to 1024, got " + buckets);
        }
        if (nat != null)
        {
            try
            {
                natSpec = io.ctrack.nat.NatActionParser.parse(nat);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UserError("--nat: " + ex.getMessage());
            }
        }
        if (flows != null && (force || nat != null))
        {
            throw new UserError("--force and --nat apply to the plain ct(commit) of a replay; with --flows the flows' "
                + "ct actions say it");
        }
        if (flows != null)
        {
            flowTables = Pipelines.load(flows, 1);
            try
            {
                mode = io.ctrack.engine.flow.PipelineRunner.Mode.parse(pipelineMode);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new UserError("--pipeline: " + ex.getMessage());
            }
            ports = InPorts.parse(inPort);
        }
        if (!Files.exists(file))
        {
            throw new UserError(file + ": no such file");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file))
        {
            throw new UserError(file + ": not a readable file");
        }

        final PrintWriter out = new PrintWriter(new BufferedWriter(
            new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 1 << 16), false);
        try (PcapReader reader = PcapReader.open(file))
        {
            reader.validate();
            replay(reader, pcapClock, out);
        }
        catch (final PcapFormatException ex)
        {
            throw new UserError(ex.getMessage());
        }
        catch (final NoSuchFileException ex)
        {
            throw new UserError(file + ": no such file");
        }
        finally
        {
            out.flush();
        }
        return 0;
    }

    private io.ctrack.engine.nat.NatSpec natSpec;
    private io.ctrack.engine.flow.FlowTables flowTables;
    private io.ctrack.engine.flow.PipelineRunner.Mode mode;
    private InPorts ports;

    private void replay(final PcapReader reader, final boolean pcapClock, final PrintWriter out)
        throws PcapFormatException, IOException
    {
        try (TrackingEngine tracker = TrackingEngine.create(engine, buckets);
            io.ctrack.engine.pcap.PcapWriter writer = write == null ? null : openWriter())
        {
            if (noTcpSeqCheck)
            {
                tracker.sequenceCheck(false);
            }
            replay(reader, pcapClock, out, tracker, writer);
        }
    }

    private io.ctrack.engine.pcap.PcapWriter openWriter()
    {
        try
        {
            return new io.ctrack.engine.pcap.PcapWriter(write, true);
        }
        catch (final IOException ex)
        {
            throw new UserError(write + ": cannot write: " + ex.getMessage());
        }
    }

    private void replay(final PcapReader reader, final boolean pcapClock, final PrintWriter out,
        final TrackingEngine tracker, final io.ctrack.engine.pcap.PcapWriter writer) throws PcapFormatException, IOException
    {
        final ExecParams params = ExecParams.commit(zone).force(force).nat(natSpec);
        final io.ctrack.engine.flow.PipelineRunner runner = flowTables == null ? null
            : new io.ctrack.engine.flow.PipelineRunner(tracker.ctService(flowTables), mode, batch);
        final int[] inPorts = new int[batch];
        final io.ctrack.engine.packet.FrameParser parser = new io.ctrack.engine.packet.FrameParser();
        final io.ctrack.engine.packet.ParsedFrame parsed = new io.ctrack.engine.packet.ParsedFrame();
        // The capture is mapped read-only: frames that NAT may rewrite, or that are written out, are copied first.
        final boolean copyFrames = natSpec != null || writer != null || runner != null;
        final UnsafeBuffer copies = new UnsafeBuffer(new byte[copyFrames ? batch * 65_536 : 0]);
        final long[] times = new long[batch];
        final FrameBatch frames = new FrameBatch(batch);
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[batch * Verdict.LENGTH]);
        final Verdict verdict = new Verdict();
        final StringBuilder line = new StringBuilder(32);
        long printed = 0;
        long nowMs = System.currentTimeMillis();
        boolean more = true;
        while (more)
        {
            frames.clear();
            long batchTimeNanos = -1;
            while (frames.count() < batch && (more = reader.next()))
            {
                if (batchTimeNanos < 0)
                {
                    batchTimeNanos = reader.timestampNanos();
                }
                times[frames.count()] = reader.timestampNanos();
                if (copyFrames)
                {
                    final int at = frames.count() * 65_536;
                    final int length = Math.min(reader.frameLength(), 65_536);
                    copies.putBytes(at, reader.buffer(), reader.frameOffset(), length);
                    frames.add(copies, at, length);
                }
                else
                {
                    frames.add(reader.buffer(), reader.frameOffset(), reader.frameLength());
                }
            }
            if (frames.count() == 0)
            {
                break;
            }
            nowMs = pcapClock ? batchTimeNanos / 1_000_000 : System.currentTimeMillis();
            if (runner != null)
            {
                for (int i = 0; i < frames.count(); i++)
                {
                    parser.parse(frames.buffer(i), frames.offset(i), frames.length(i), parsed);
                    inPorts[i] = ports.of(parsed);
                }
                runner.run(flowTables, frames, inPorts, nowMs);
            }
            else
            {
                tracker.execute(frames, params, nowMs, verdicts);
            }
            for (int i = 0; i < frames.count(); i++)
            {
                line.setLength(0);
                if (runner != null)
                {
                    line.append(++printed).append(": ").append(CtState.format(runner.ctState(i))).append(' ')
                        .append(runner.describe(i));
                }
                else
                {
                    verdict.wrap(verdicts, i * Verdict.LENGTH);
                    line.append(++printed).append(": ").append(CtState.format(verdict.ctState()));
                }
                out.println(line);
                if (writer != null)
                {
                    writer.write(times[i], frames.buffer(i), frames.offset(i), frames.length(i), frames.length(i));
                }
            }
        }
        if (dump)
        {
            final List<String> lines = tracker.dump(nowMs);
            Collections.sort(lines);
            lines.forEach(out::println);
        }
    }
}
