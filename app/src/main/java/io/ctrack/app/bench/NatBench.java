package io.ctrack.app.bench;

import io.ctrack.app.UserError;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.nat.NatSpec;
import io.ctrack.engine.packet.FrameWriter;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.nat.NatActionParser;
import io.ctrack.shards.AdminActor;
import io.ctrack.shards.ShardedNode;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.ByteOrder;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Source NAT under load: N_THREADS packet threads open N_CONNS UDP connections (distinct clients, 16 servers)
 * through {@code ct(commit,nat(src=POOL))}, then each server answers the translated tuple it saw through
 * {@code ct(nat)}. Reports connections per second, checks that no two connections got the same external tuple and
 * that every answer was translated back to its own client, and counts exhaustion.
 */
@Command(name = "nat", mixinStandardHelpOptions = true,
    description = "Opens N_CONNS connections from N_THREADS packet threads through source NAT into POOL "
        + "(ADDR[-ADDR][:PORT[-PORT]]); simulated servers answer the translated tuples. Reports connections/s, "
        + "duplicate external tuples (must be 0), exhaustion, and whether every answer reached its client.")
final class NatBench implements Runnable
{
    private static final int FRAME = 128;
    private static final int SERVERS = 16;
    private static final int PAYLOAD = 16;
    /** Ethernet, IPv4 and UDP headers and the payload. */
    private static final int LENGTH = 14 + 20 + 8 + PAYLOAD;

    @Parameters(index = "0", paramLabel = "N_CONNS")
    private int connections;

    @Parameters(index = "1", paramLabel = "N_THREADS")
    private int threads;

    @Parameters(index = "2", paramLabel = "POOL")
    private String pool;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Packets per batch (default ${DEFAULT-VALUE}).")
    private int batch;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "-1",
        description = "Connections run through a separate node first, untimed (default: N_CONNS), so the JIT has "
            + "compiled the path; 0 times a cold start.")
    private int warmup;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (connections < 1 || threads < 1 || threads > 64 || batch < 1 || batch > PacketWorker.MAX_BATCH)
        {
            throw new UserError("need N_CONNS >= 1, 1-64 threads and a batch of 1-" + PacketWorker.MAX_BATCH);
        }
        final NatSpec spec;
        try
        {
            spec = NatActionParser.parse(pool.startsWith("nat") || pool.startsWith("src=") ? pool : "src=" + pool);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new UserError("POOL: " + ex.getMessage());
        }
        if (!spec.isSource() || spec.isIpv6())
        {
            throw new UserError("POOL must be an IPv4 source NAT range, e.g. 10.9.0.1-10.9.0.4 or 10.9.0.1:1024-65535");
        }
        final PrintStream out = System.out;
        final int warmupConnections = warmup < 0 ? connections : warmup;
        if (warmupConnections > 0)
        {
            final long start = System.nanoTime();
            runOnce(warmupConnections, spec, new PrintStream(java.io.OutputStream.nullOutputStream()));
            out.printf("(warm-up: %d connections through a separate node, untimed: %d ms with its answers, checks and shutdown)%n",
                warmupConnections, (System.nanoTime() - start) / 1_000_000);
        }
        runOnce(connections, spec, out);
    }

    private void runOnce(final int connections, final NatSpec spec, final PrintStream out)
    {
        try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, connections)))
        {
            final Flows[] flows = new Flows[threads];
            final AtomicLong translated = new AtomicLong();
            final AtomicLong refused = new AtomicLong();
            final AtomicLong answered = new AtomicLong();
            final AtomicLong misrouted = new AtomicLong();
            final CyclicBarrier barrier = new CyclicBarrier(threads + 1);
            final Thread[] workers = new Thread[threads];
            final int per = (connections + threads - 1) / threads;
            final RuntimeException[] failure = new RuntimeException[1];
            for (int t = 0; t < threads; t++)
            {
                final PacketWorker worker = node.newWorker(nodeOptions.inFlight);
                final int first = t * per;
                final int last = Math.min(connections, first + per);
                final Flows f = new Flows(worker, first, last, spec, translated, refused, answered, misrouted);
                flows[t] = f;
                workers[t] = new Thread(() ->
                {
                    try
                    {
                        f.run(barrier);
                    }
                    catch (final RuntimeException ex)
                    {
                        failure[0] = ex;
                        EstablishedBench.await(barrier);
                        EstablishedBench.await(barrier);
                        EstablishedBench.await(barrier);
                    }
                }, "nat-" + t);
                workers[t].start();
            }
            EstablishedBench.await(barrier);
            final long start = System.nanoTime();
            EstablishedBench.await(barrier);
            final long openNs = System.nanoTime() - start;
            EstablishedBench.await(barrier);
            final long replyNs = System.nanoTime() - start - openNs;
            for (final Thread w : workers)
            {
                EstablishedBench.join(w);
            }
            if (failure[0] != null)
            {
                throw failure[0];
            }
            // Duplicates, counted after the timed phases: the external tuple each server saw, over all threads.
            int n = 0;
            for (final Flows f : flows)
            {
                n += f.count;
            }
            final long[] seen = new long[n];
            int k = 0;
            for (final Flows f : flows)
            {
                for (int i = 0; i < f.count; i++)
                {
                    seen[k++] = f.externalOf[i] == 0 ? -1 - k : f.externalOf[i] << 8 | ((f.first + i) % SERVERS);
                }
            }
            java.util.Arrays.sort(seen);
            long duplicates = 0;
            for (int i = 1; i < seen.length; i++)
            {
                duplicates += seen[i] >= 0 && seen[i] == seen[i - 1] ? 1 : 0;
            }
            final long[] totals = node.counterTotals();
            final AdminActor.Result links = node.ask(AdminActor.CheckNat::new);
            out.printf("nat: %d connections through %s from %d packet thread(s) in %d ms: %.0f connections/s "
                + "(%.1f ns per connection)%n", connections, spec, threads, openNs / 1_000_000,
                connections * 1e9 / openNs, (double)openNs / connections);
            out.printf("translated %d, refused for exhaustion %d (counter %d), duplicate external tuples %d%n",
                translated.get(), refused.get(), totals[EngineCounter.NAT_EXHAUSTED.id()], duplicates);
            out.printf("answers: %d of %d translated back to their own client, %d wrong, in %d ms (%.0f packets/s)%n",
                answered.get(), translated.get(), misrouted.get(), replyNs / 1_000_000,
                translated.get() * 1e9 / Math.max(1, replyNs));
            out.printf("candidate tuples examined: %.2f per connection; reservations in other buckets %d (refused there %d), "
                + "answers forwarded to their owner %d; owner/alias check: %s%n",
                (double)totals[EngineCounter.NAT_TRIES.id()] / connections, totals[EngineCounter.NAT_RESERVATIONS.id()],
                totals[EngineCounter.NAT_RESERVATIONS_TAKEN.id()], totals[EngineCounter.NAT_FORWARDED.id()],
                links.text());
            out.printf("(%s, batches of %d)%n", nodeOptions.describe(), batch);
            BenchCommand.printPressure(out, node);
        }
    }

    /** One packet thread's connections: open them all, then answer them all. */
    private final class Flows
    {
        private final PacketWorker worker;
        private final int first;
        private final int count;
        private final NatSpec spec;
        private final AtomicLong translated;
        private final AtomicLong refused;
        private final AtomicLong answered;
        private final AtomicLong misrouted;
        private final UnsafeBuffer frames;
        private final long[] externalOf;
        private long translatedHere;
        private long refusedHere;
        private long answeredHere;
        private long misroutedHere;

        Flows(final PacketWorker worker, final int first, final int last, final NatSpec spec, final AtomicLong translated,
            final AtomicLong refused, final AtomicLong answered, final AtomicLong misrouted)
        {
            this.worker = worker;
            this.first = first;
            this.count = last - first;
            this.spec = spec;
            this.translated = translated;
            this.refused = refused;
            this.answered = answered;
            this.misrouted = misrouted;
            this.frames = new UnsafeBuffer(new byte[Math.max(1, count) * FRAME]);
            this.externalOf = new long[Math.max(1, count)];
        }

        private int client(final int i)
        {
            return 0x0A00_0000 | ((first + i) >>> 14);
        }

        private int clientPort(final int i)
        {
            return 1024 + ((first + i) & 0x3FFF);
        }

        private int server(final int i)
        {
            return FrameWriter.ipv4Address(172, 16, 0, 1 + ((first + i) % SERVERS));
        }

        void run(final CyclicBarrier barrier)
        {
            for (int i = 0; i < count; i++)
            {
                FrameWriter.udp4(frames, i * FRAME, client(i), clientPort(i), server(i), 53, PAYLOAD, true);
            }
            final Pipeline open = new Pipeline(worker, nodeOptions.inFlight, batch).check(this::onOpened);
            open.recording(false);
            EstablishedBench.await(barrier);
            send(open, ExecParams.commit(0).nat(spec));
            EstablishedBench.await(barrier);

            // Each server answers the tuple it saw (the translated one).
            for (int i = 0; i < count; i++)
            {
                final long ext = externalOf[i];
                if (ext != 0)
                {
                    FrameWriter.udp4(frames, i * FRAME, server(i), 53, (int)(ext >>> 16), (int)(ext & 0xFFFF), PAYLOAD, true);
                }
                else
                {
                    // Refused: the server never heard of it; send the client's query again in its place.
                    FrameWriter.udp4(frames, i * FRAME, client(i), clientPort(i), server(i), 53, PAYLOAD, true);
                }
            }
            final Pipeline reply = new Pipeline(worker, nodeOptions.inFlight, batch).check(this::onAnswered);
            reply.recording(false);
            send(reply, new ExecParams().zone(0).nat(NatSpec.PLAIN));
            translated.addAndGet(translatedHere);
            refused.addAndGet(refusedHere);
            answered.addAndGet(answeredHere);
            misrouted.addAndGet(misroutedHere);
            EstablishedBench.await(barrier);
        }

        private void send(final Pipeline pipeline, final ExecParams params)
        {
            final FrameBatch batchFrames = new FrameBatch(batch);
            final long nowMs = System.currentTimeMillis();
            for (int i = 0; i < count; i += batch)
            {
                batchFrames.clear();
                for (int j = i; j < Math.min(count, i + batch); j++)
                {
                    batchFrames.add(frames, j * FRAME, LENGTH);
                }
                pipeline.submit(batchFrames, params, nowMs, i);
            }
            pipeline.drain();
        }

        private void onOpened(final UnsafeBuffer verdicts, final int offset, final long tag)
        {
            final int from = (int)tag;
            final Verdict v = new Verdict();
            for (int j = from; j < Math.min(count, from + batch); j++)
            {
                v.wrap(verdicts, offset + (j - from) * Verdict.LENGTH);
                if ((v.ctState() & CtState.SRC_NAT) != 0)
                {
                    final long ext = (frames.getInt(j * FRAME + 26, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL) << 16
                        | (frames.getShort(j * FRAME + 34, ByteOrder.BIG_ENDIAN) & 0xFFFF);
                    externalOf[j] = ext;
                    translatedHere++;
                }
                else
                {
                    refusedHere++;
                }
            }
        }

        private void onAnswered(final UnsafeBuffer verdicts, final int offset, final long tag)
        {
            final int from = (int)tag;
            final Verdict v = new Verdict();
            for (int j = from; j < Math.min(count, from + batch); j++)
            {
                if (externalOf[j] == 0)
                {
                    continue;
                }
                v.wrap(verdicts, offset + (j - from) * Verdict.LENGTH);
                final int dst = frames.getInt(j * FRAME + 30, ByteOrder.BIG_ENDIAN);
                final int dport = frames.getShort(j * FRAME + 36, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                if ((v.ctState() & CtState.DST_NAT) != 0 && (v.ctState() & CtState.REPLY_DIR) != 0
                    && dst == client(j) && dport == clientPort(j))
                {
                    answeredHere++;
                }
                else
                {
                    misroutedHere++;
                }
            }
        }
    }
}
