package io.ctrack.transport;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.flow.AsyncCtService;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.function.LongConsumer;

/**
 * A packet worker as a pipeline's connection tracker: every {@code ct} is one round trip through the node's
 * buckets; single-pass sends the post-ct table along and the bucket evaluates it.
 */
public final class WorkerCtService implements AsyncCtService
{
    private final PacketWorker worker;
    private final PacketWorker.Options options = new PacketWorker.Options();
    /** Tags of started batches whose verdicts are in, until {@link #poll} reports them. */
    private final Finished finished = new Finished();

    /** Takes the worker's completion callback: started batches are reported by {@link #poll}. */
    public WorkerCtService(final PacketWorker worker)
    {
        this.worker = worker;
        // User tags are the caller's tags + 1: the synchronous calls' batches (tag 0) are not reported.
        worker.completion((seq, userTag) ->
        {
            if (userTag > 0)
            {
                finished.add(userTag - 1);
            }
        });
    }

    @Override
    public void ct(final FrameBatch frames, final ExecParams params, final int[] inStates, final long nowMs,
        final MutableDirectBuffer verdicts)
    {
        options.clear();
        options.inStates = inStates;
        options.verdictStride = Verdict.NAT_LENGTH;
        worker.process(frames, params, nowMs, verdicts, 0, options);
    }

    @Override
    public void ctSinglePass(final FrameBatch frames, final ExecParams params, final int postCtTable,
        final int generation, final DirectBuffer fields, final long nowMs, final MutableDirectBuffer verdicts)
    {
        worker.process(frames, params, nowMs, verdicts, 0, singlePass(postCtTable, fields));
    }

    /** The options of a single-pass submission: 64-byte verdicts, the post-ct table, the fields records. */
    private PacketWorker.Options singlePass(final int postCtTable, final DirectBuffer fields)
    {
        options.clear();
        options.verdictStride = Verdict.NAT_LENGTH;
        options.postCtTable = postCtTable;
        options.fieldRecords = fields;
        return options;
    }

    @Override
    public int maxWholeRun()
    {
        return worker.singlePassCapacity();
    }

    @Override
    public boolean startSinglePass(final FrameBatch frames, final ExecParams params, final int postCtTable,
        final int generation, final DirectBuffer fields, final long nowMs, final MutableDirectBuffer verdicts,
        final long tag)
    {
        return worker.submit(frames, params, nowMs, verdicts, 0, tag + 1, singlePass(postCtTable, fields)) >= 0;
    }

    @Override
    public int poll(final LongConsumer done)
    {
        worker.poll();
        return finished.reportTo(done);
    }
}
