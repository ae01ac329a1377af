package io.ctrack.app.bench;

import io.ctrack.app.Pipelines;
import io.ctrack.app.UserError;
import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.flow.ConntrackCtService;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.flow.FlowTables;
import io.ctrack.engine.flow.OverlappedPipeline;
import io.ctrack.engine.flow.PipelineRunner;
import io.ctrack.engine.packet.FrameWriter;
import io.ctrack.shards.ShardedNode;
import io.ctrack.transport.PacketWorker;
import io.ctrack.transport.WorkerCtService;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;

/**
 * A stateful firewall pipeline under load: N_FLOWS concurrent flows (TCP and UDP alternately: handshake, then
 * acknowledgements or datagrams both ways) send N_PKTS packets round-robin through the flow tables, in each mode.
 * Packets per second for each mode and their ratio. With N_PKTS much larger than N_FLOWS the traffic is mostly
 * established; with N_PKTS equal to N_FLOWS it is all new.
 */
@Command(name = "firewall", mixinStandardHelpOptions = true,
    description = "Runs N_FLOWS TCP and UDP flows (N_PKTS packets in all, in batches of BATCH) through the pipeline FLOWS "
        + "(a file, 'firewall' for the classic firewall, or 'acl:N' for an N-rule ACL in table 1) in recirculate and "
        + "single-pass mode; packets per second of each and their ratio.")
final class FirewallBench implements Runnable
{
    private static final int PAYLOAD = 8;
    private static final int SLOT = 128;

    @Parameters(index = "0", paramLabel = "FLOWS")
    private String flowsSpec;

    @Parameters(index = "1", paramLabel = "N_FLOWS")
    private int flows;

    @Parameters(index = "2", paramLabel = "N_PKTS")
    private long packets;

    @Parameters(index = "3", paramLabel = "BATCH")
    private int batch;

    @Option(names = "--mode", paramLabel = "recirculate|single-pass|both", defaultValue = "both",
        description = "Which mode(s) to run (default ${DEFAULT-VALUE}).")
    private String mode;

    @Option(names = "--warmup", paramLabel = "N_PKTS", defaultValue = "-1",
        description = "Packets sent through a separate node first, untimed, per mode (default: N_PKTS, at most 2M).")
    private long warmup;

    @Option(names = "--engine", paramLabel = "sharded|embedded", defaultValue = "sharded",
        description = "sharded (default): the full path through a node; embedded: one table on the packet thread, "
            + "the pipeline's cost without the hand-off.")
    private String engine;

    @Option(names = "--overlap", paramLabel = "N", defaultValue = "4",
        description = "Single-pass through a node: batches in flight at once when the tables allow it (every packet "
            + "finished in its bucket) and BATCH fits one message per bucket (default ${DEFAULT-VALUE}; 1: one at a "
            + "time, as recirculation must).")
    private int overlap;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (flows < 1 || packets < 1 || batch < 1 || batch > PacketWorker.MAX_BATCH)
        {
            throw new UserError("need N_FLOWS >= 1, N_PKTS >= 1 and BATCH 1-" + PacketWorker.MAX_BATCH);
        }
        if (!engine.equals("sharded") && !engine.equals("embedded"))
        {
            throw new UserError("--engine must be sharded or embedded, got '" + engine + "'");
        }
        final FlowTables tables = Pipelines.load(flowsSpec, 1);
        final PrintStream out = System.out;
        final Traffic traffic = new Traffic(flows, flowsSpec.startsWith("acl:"));
        out.printf("%s (%d flows in the tables), %d concurrent flows, %d packets in batches of %d (%s)%n", flowsSpec,
            tables.flowCount(), flows, packets, batch,
            engine.equals("embedded") ? "the embedded engine: one table on the packet thread" : nodeOptions.describe());
        final double[] pps = new double[2];
        int i = 0;
        for (final PipelineRunner.Mode m : PipelineRunner.Mode.values())
        {
            if (!mode.equals("both") && PipelineRunner.Mode.parse(mode) != m)
            {
                i++;
                continue;
            }
            final long warm = warmup < 0 ? Math.min(packets, 2_000_000) : warmup;
            if (warm > 0)
            {
                runOnce(tables, traffic, m, warm, null);
            }
            pps[i] = runOnce(tables, traffic, m, packets, out);
            i++;
        }
        if (pps[0] > 0 && pps[1] > 0)
        {
            out.printf("single-pass / recirculate: %.2f%n", pps[1] / pps[0]);
        }
    }

    private double runOnce(final FlowTables tables, final Traffic traffic, final PipelineRunner.Mode m, final long count,
        final PrintStream out)
    {
        if (engine.equals("embedded"))
        {
            final Conntrack conntrack = new Conntrack(ConnTableConfig.of(0, 1 << Math.max(10,
                32 - Integer.numberOfLeadingZeros(flows))), FragConfig.DEFAULT);
            return drive(new PipelineRunner(new ConntrackCtService(conntrack).tables(tables), m, batch), tables,
                traffic, m, count, out);
        }
        try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, flows * 2L)))
        {
            node.flowTables(tables);
            final WorkerCtService service = new WorkerCtService(node.newWorker(16));
            final String why = whyOneAtATime(tables, service.maxWholeRun());
            if (m == PipelineRunner.Mode.SINGLE_PASS && why == null)
            {
                final OverlappedPipeline overlapped = new OverlappedPipeline(service, batch, overlap);
                final long[] drops = { 0 };
                overlapped.listener((number, results) ->
                {
                    for (int k = 0; k < results.count(); k++)
                    {
                        drops[0] += results.outputCount(k) == 0 ? 1 : 0;
                    }
                });
                return drive(new Sink()
                {
                    @Override
                    public void batch(final FrameBatch frames, final int[] inPorts, final long nowMs)
                    {
                        overlapped.submit(tables, frames, inPorts, nowMs);
                    }

                    @Override
                    public long finish()
                    {
                        overlapped.drain();
                        if (overlapped.lateCount() != 0)
                        {
                            throw new IllegalStateException(overlapped.lateCount() + " packets finished late");
                        }
                        return drops[0];
                    }

                    @Override
                    public String describe()
                    {
                        return String.format("evaluated where tracked %d, committed there %d; up to %d batches in flight",
                            overlapped.evaluatedWhereTracked(), overlapped.committedWhereTracked(), overlapped.peakInFlight());
                    }
                }, traffic, m, count, out);
            }
            if (m == PipelineRunner.Mode.SINGLE_PASS && out != null)
            {
                out.printf("  (single-pass one batch at a time: %s)%n", why);
            }
            return drive(new PipelineRunner(service, m, batch), tables, traffic, m, count, out);
        }
    }

    /** Why single-pass must run one batch at a time here, or null if its batches may overlap. */
    private String whyOneAtATime(final FlowTables tables, final int maxWholeRun)
    {
        if (overlap <= 1)
        {
            return "--overlap " + overlap;
        }
        final String ineligible = OverlappedPipeline.ineligibility(tables);
        if (ineligible != null)
        {
            return ineligible;
        }
        return batch > maxWholeRun
            ? "a batch of " + batch + " may not reach a bucket in one message (at most " + maxWholeRun + ")" : null;
    }

    /** Where the bench's batches go: a pipeline, one batch at a time or overlapped. */
    private interface Sink
    {
        void batch(FrameBatch frames, int[] inPorts, long nowMs);

        /** Waits for the last batch; returns the packets the rules dropped. */
        long finish();

        String describe();
    }

    private double drive(final PipelineRunner runner, final FlowTables tables, final Traffic traffic,
        final PipelineRunner.Mode m, final long count, final PrintStream out)
    {
        final long[] drops = { 0 };
        return drive(new Sink()
        {
            @Override
            public void batch(final FrameBatch frames, final int[] inPorts, final long nowMs)
            {
                runner.run(tables, frames, inPorts, nowMs);
                for (int k = 0; k < frames.count(); k++)
                {
                    drops[0] += runner.outputCount(k) == 0 ? 1 : 0;
                }
            }

            @Override
            public long finish()
            {
                return drops[0];
            }

            @Override
            public String describe()
            {
                return String.format("evaluated where tracked %d, committed there %d", runner.evaluatedWhereTracked(),
                    runner.committedWhereTracked());
            }
        }, traffic, m, count, out);
    }

    private double drive(final Sink sink, final Traffic traffic, final PipelineRunner.Mode m, final long count,
        final PrintStream out)
    {
        final FrameBatch frames = new FrameBatch(batch);
        final int[] inPorts = new int[batch];
        final long start = System.nanoTime();
        long sent = 0;
        long nowMs = System.currentTimeMillis();
        while (sent < count)
        {
            frames.clear();
            final int n = (int)Math.min(batch, count - sent);
            for (int k = 0; k < n; k++)
            {
                final long p = sent + k;
                final int flow = (int)(p % flows);
                final int step = (int)Math.min(p / flows, Integer.MAX_VALUE);
                inPorts[k] = traffic.frame(flow, step, frames);
            }
            sink.batch(frames, inPorts, nowMs);
            sent += n;
            if ((sent & 0xFFFF) < batch)
            {
                nowMs = System.currentTimeMillis();
            }
        }
        final long drops = sink.finish();
        final long elapsedNs = System.nanoTime() - start;
        final double rate = count * 1e9 / elapsedNs;
        if (out != null)
        {
            out.printf("  %-12s %6d ms  %.3f Mpps  (%.0f ns per packet; dropped by the rules %d; post-ct table %s)%n",
                m == PipelineRunner.Mode.RECIRCULATE ? "recirculate" : "single-pass", elapsedNs / 1_000_000, rate / 1e6,
                (double)elapsedNs / count, drops, sink.describe());
        }
        return rate;
    }

    /** Pre-built frames of every flow: the first three packets, then the two established ones, alternately. */
    private static final class Traffic
    {
        private final int flows;
        private final UnsafeBuffer frames;
        private final int[] lengths;

        Traffic(final int flows, final boolean aclClients)
        {
            this.flows = flows;
            this.frames = new UnsafeBuffer(new byte[flows * 5 * SLOT]);
            this.lengths = new int[flows * 5];
            for (int f = 0; f < flows; f++)
            {
                final int k = f % 999;
                final int client = aclClients
                    ? FrameWriter.ipv4Address(10, k / 256, k % 256, 1 + (f / 999) % 250)
                    : FrameWriter.ipv4Address(10, (f >>> 16) & 0xFF, (f >>> 8) & 0xFF, 1 + (f & 0x7F));
                final int server = FrameWriter.ipv4Address(172, 16, (f >>> 8) & 0xFF, 1 + (f & 0xFF) % 250);
                final int sport = 1024 + (f % 60000);
                final int base = f * 5;
                if ((f & 1) == 0)
                {
                    final int dport = aclClients ? (k % 2 == 0 ? 80 : 443) : 80;
                    put(base, FrameWriter.tcp4(frames, base * SLOT, client, sport, server, dport, 1000, 0, 0x02, 65535, 0));
                    put(base + 1, FrameWriter.tcp4(frames, (base + 1) * SLOT, server, dport, client, sport, 5000, 1001,
                        0x12, 65535, 0));
                    put(base + 2, FrameWriter.tcp4(frames, (base + 2) * SLOT, client, sport, server, dport, 1001, 5001,
                        0x10, 65535, 0));
                    put(base + 3, FrameWriter.tcp4(frames, (base + 3) * SLOT, client, sport, server, dport, 1001, 5001,
                        0x10, 65535, 0));
                    put(base + 4, FrameWriter.tcp4(frames, (base + 4) * SLOT, server, dport, client, sport, 5001, 1001,
                        0x10, 65535, 0));
                }
                else
                {
                    put(base, FrameWriter.udp4(frames, base * SLOT, client, sport, server, 53, PAYLOAD, true));
                    put(base + 1, FrameWriter.udp4(frames, (base + 1) * SLOT, server, 53, client, sport, PAYLOAD, true));
                    put(base + 2, FrameWriter.udp4(frames, (base + 2) * SLOT, client, sport, server, 53, PAYLOAD, true));
                    put(base + 3, lengths[base + 2]);
                    frames.putBytes((base + 3) * SLOT, frames, (base + 2) * SLOT, lengths[base + 2]);
                    put(base + 4, lengths[base + 1]);
                    frames.putBytes((base + 4) * SLOT, frames, (base + 1) * SLOT, lengths[base + 1]);
                }
            }
        }

        private void put(final int index, final int length)
        {
            lengths[index] = length;
        }

        /** Adds flow {@code flow}'s packet number {@code step}; returns its input port (1 inside, 2 outside). */
        int frame(final int flow, final int step, final FrameBatch batch)
        {
            final int kind = step < 3 ? step : 3 + (step & 1);
            final int index = flow * 5 + kind;
            batch.add(frames, index * SLOT, lengths[index]);
            return kind == 1 || kind == 4 ? 2 : 1;
        }
    }
}
