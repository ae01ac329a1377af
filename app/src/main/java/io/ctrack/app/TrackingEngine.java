package io.ctrack.app;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.DumpFormat;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.shards.AdminActor;
import io.ctrack.shards.NodeSettings;
import io.ctrack.shards.ShardedNode;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the commands drive packets through: the sharded runtime (a node with its worker, Aeron IPC and bucket
 * actors) or the embedded engine (one table on the calling thread), behind one interface.
 */
interface TrackingEngine extends AutoCloseable
{
    /** Tracks a batch; verdict {@code i} is written at {@code i * Verdict.LENGTH}. */
    void execute(FrameBatch frames, ExecParams params, long nowMs, UnsafeBuffer verdicts);

    /** Every live connection as dump-conntrack prints it (unsorted). */
    List<String> dump(long nowMs);

    /** Counters summed over the engine's parts, by counter id. */
    long[] counters();

    /** A line saying what the engine is. */
    String describe();

    /** The engine as a pipeline's connection tracker, evaluating {@code tables} where it tracks (single-pass). */
    io.ctrack.engine.flow.CtService ctService(io.ctrack.engine.flow.FlowTables tables);

    /** TCP sequence checking on or off, as {@code dpctl ct-enable-tcp-seq-chk} / {@code ct-disable-tcp-seq-chk}. */
    void sequenceCheck(boolean enabled);

    @Override
    void close();

    /** Creates the engine a command asked for: "sharded" (with {@code buckets}) or "embedded". */
    static TrackingEngine create(final String kind, final int buckets)
    {
        if (kind.equals("embedded"))
        {
            return new Embedded();
        }
        if (!kind.equals("sharded"))
        {
            throw new UserError("--engine must be 'sharded' or 'embedded', got '" + kind + "'");
        }
        if (buckets < 1 || buckets > 1024 || Integer.bitCount(buckets) != 1)
        {
            throw new UserError("--buckets must be a power of two from 1 to 1024, got " + buckets);
        }
        return new Sharded(buckets);
    }

    /** One table on the calling thread. */
    final class Embedded implements TrackingEngine
    {
        private final Conntrack conntrack = new Conntrack(ConnTableConfig.of(0, 4096), FragConfig.DEFAULT);

        @Override
        public void execute(final FrameBatch frames, final ExecParams params, final long nowMs,
            final UnsafeBuffer verdicts)
        {
            conntrack.execute(frames, params, nowMs, verdicts, 0);
        }

        @Override
        public List<String> dump(final long nowMs)
        {
            final List<String> lines = new ArrayList<>();
            conntrack.table().forEach(-1, nowMs, entry -> lines.add(DumpFormat.format(entry)));
            return lines;
        }

        @Override
        public long[] counters()
        {
            final long[] totals = new long[EngineCounter.count()];
            conntrack.counters().addTo(totals);
            return totals;
        }

        @Override
        public String describe()
        {
            return "the embedded engine (one table on this thread)";
        }

        @Override
        public io.ctrack.engine.flow.CtService ctService(final io.ctrack.engine.flow.FlowTables tables)
        {
            return new io.ctrack.engine.flow.ConntrackCtService(conntrack).tables(tables);
        }

        @Override
        public void sequenceCheck(final boolean enabled)
        {
            conntrack.table().sequenceCheck(enabled);
        }

        @Override
        public void close()
        {
        }
    }

    /** A node on embedded defaults and one packet worker. */
    final class Sharded implements TrackingEngine
    {
        private final ShardedNode node;
        private final PacketWorker worker;

        Sharded(final int buckets)
        {
            // No sweepers here: replay may run on capture time, and expired connections are absent on lookup anyway.
            node = ShardedNode.start(NodeSettings.defaults("cli", buckets));
            try
            {
                worker = node.newWorker(1);
            }
            catch (final RuntimeException ex)
            {
                node.close();
                throw ex;
            }
        }

        ShardedNode node()
        {
            return node;
        }

        @Override
        public io.ctrack.engine.flow.CtService ctService(final io.ctrack.engine.flow.FlowTables tables)
        {
            node.flowTables(tables);
            return new io.ctrack.transport.WorkerCtService(worker);
        }

        @Override
        public void execute(final FrameBatch frames, final ExecParams params, final long nowMs,
            final UnsafeBuffer verdicts)
        {
            worker.process(frames, params, nowMs, verdicts, 0);
        }

        @Override
        public void sequenceCheck(final boolean enabled)
        {
            final AdminActor.Result result = node.ask(replyTo -> new AdminActor.SetTcpSeqCheck(enabled, replyTo));
            if (!result.ok())
            {
                throw new IllegalStateException("setting TCP sequence checking failed: " + result.text());
            }
        }

        @Override
        public List<String> dump(final long nowMs)
        {
            final List<String> lines = new ArrayList<>();
            AdminActor.DumpChunk chunk = node.ask(replyTo -> new AdminActor.Dump(-1, replyTo));
            while (true)
            {
                lines.addAll(chunk.lines());
                if (chunk.last())
                {
                    return lines;
                }
                chunk = AskPattern.<AdminActor.DumpNext, AdminActor.DumpChunk>ask(chunk.more(), AdminActor.DumpNext::new,
                    Duration.ofSeconds(30), node.system().scheduler()).toCompletableFuture().join();
            }
        }

        @Override
        public long[] counters()
        {
            return node.counterTotals();
        }

        @Override
        public String describe()
        {
            return "a node on embedded defaults (packet worker -> Aeron IPC -> " + node.buckets() + " bucket actors)";
        }

        @Override
        public void close()
        {
            node.close();
        }
    }
}
