package io.ctrack.transport;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.flow.CtService;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A packet worker as a pipeline's connection tracker: every {@code ct} is one round trip through the node's
 * buckets; single-pass sends the post-ct table along and the bucket evaluates it.
 */
public final class WorkerCtService implements CtService
{
    private final PacketWorker worker;
    private final PacketWorker.Options options = new PacketWorker.Options();

    public WorkerCtService(final PacketWorker worker)
    {
        this.worker = worker;
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
        options.clear();
        options.verdictStride = Verdict.NAT_LENGTH;
        options.postCtTable = postCtTable;
        options.fieldRecords = fields;
        worker.process(frames, params, nowMs, verdicts, 0, options);
    }
}
