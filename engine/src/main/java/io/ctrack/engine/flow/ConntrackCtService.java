package io.ctrack.engine.flow;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The embedded engine as a pipeline's connection tracker: one table on the calling thread. Single-pass runs the
 * same {@link SinglePassStage} a bucket runs, on this table.
 */
public final class ConntrackCtService implements AsyncCtService
{
    private final Finished finished = new Finished();
    private final Conntrack conntrack;
    private final SinglePassStage stage;
    private final Verdict verdict = new Verdict();
    private volatile FlowTables tables;

    public ConntrackCtService(final Conntrack conntrack)
    {
        this.conntrack = conntrack;
        this.stage = new SinglePassStage(conntrack.table(), true);
    }

    /** The pipeline the single-pass stage evaluates (the same object the runner uses). */
    public ConntrackCtService tables(final FlowTables tables)
    {
        this.tables = tables;
        return this;
    }

    @Override
    public void ct(final FrameBatch frames, final ExecParams params, final int[] inStates, final long nowMs,
        final MutableDirectBuffer verdicts)
    {
        conntrack.execute(frames, params, inStates, nowMs, verdicts, 0, Verdict.NAT_LENGTH, true, null);
    }

    @Override
    public void ctSinglePass(final FrameBatch frames, final ExecParams params, final int postCtTable,
        final int generation, final DirectBuffer fields, final long nowMs, final MutableDirectBuffer verdicts)
    {
        stage.begin();
        conntrack.execute(frames, params, null, nowMs, verdicts, 0, Verdict.NAT_LENGTH, false,
            (i, request, v, answered) -> stage.first(request, fields, i * PacketFields.LENGTH,
                generation, verdicts, i * Verdict.NAT_LENGTH, answered));
        stage.second(tables, postCtTable, params, nowMs);
        for (int i = 0; i < frames.count(); i++)
        {
            verdict.wrap(verdicts, i * Verdict.NAT_LENGTH);
            if (verdict.hasNat())
            {
                conntrack.rewrite(frames, i, verdict);
            }
        }
    }

    /** No limit: the table is on this thread. */
    @Override
    public int maxWholeRun()
    {
        return Integer.MAX_VALUE;
    }

    /** Done at once (one table on this thread); {@link #poll} reports it. */
    @Override
    public boolean startSinglePass(final FrameBatch frames, final ExecParams params, final int postCtTable,
        final int generation, final DirectBuffer fields, final long nowMs, final MutableDirectBuffer verdicts,
        final long tag)
    {
        ctSinglePass(frames, params, postCtTable, generation, fields, nowMs, verdicts);
        finished.add(tag);
        return true;
    }

    @Override
    public int poll(final java.util.function.LongConsumer done)
    {
        return finished.reportTo(done);
    }
}
