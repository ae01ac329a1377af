package io.ctrack.shards;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.flow.PacketFields;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.transport.BucketEndpoint;
import io.ctrack.transport.wire.BatchFlyweight;

import java.nio.ByteOrder;

/**
 * What a bucket does with each request of a batch from its stream: plain ct on its table; a request another bucket
 * forwarded (the reply of a translated connection this bucket owns) or sent back (a stale alias); NAT outcomes that
 * need another bucket go to {@link NatBucket}; a single-pass pipeline's batch also goes through the table's
 * {@link io.ctrack.engine.flow.SinglePassStage}, whose post-ct table runs when the batch ends.
 */
final class BucketProcessor implements BucketEndpoint.BatchProcessor
{
    private final BucketState state;
    private final ConnTable table;
    private final BucketEndpoint endpoint;
    private final NatBucket nat;
    private final ExecParams pipelineParams = new ExecParams();
    /** The flags of the batch being processed (read at its first request). */
    private int flags;

    BucketProcessor(final BucketState state)
    {
        this.state = state;
        this.table = state.table;
        this.endpoint = state.endpoint;
        this.nat = state.nat;
    }

    @Override
    public void process(final CtRequest request, final ExecParams params, final long nowMs, final Verdict verdict)
    {
        if (state.faultAfterRequests >= 0 && state.faultAfterRequests-- == 0)
        {
            throw new IllegalStateException("fault injected into bucket " + state.bucketId + " inside a batch");
        }
        final BatchFlyweight batch = endpoint.currentBatch();
        final int i = endpoint.currentIndex();
        if (i == 0)
        {
            flags = batch.flags();
        }
        if ((flags & (BatchFlyweight.FLAG_FORWARDED | BatchFlyweight.FLAG_IGNORE_ALIASES
            | BatchFlyweight.FLAG_PIPELINE)) == 0)
        {
            table.execute(request, params, nowMs, verdict);
            if (table.lastOutcome() != ConnTable.OUTCOME_ANSWERED)
            {
                nat.onOutcome(request, params, nowMs, verdict, batch, i);
            }
            return;
        }
        if ((flags & (BatchFlyweight.FLAG_FORWARDED | BatchFlyweight.FLAG_IGNORE_ALIASES)) == 0)
        {
            table.execute(request, params, nowMs, verdict);
        }
        else if ((flags & BatchFlyweight.FLAG_FORWARDED) != 0)
        {
            table.executeForwarded(batch.forwardOwnerRef(i), batch.forwardConnId(i), batch.forwardReply(i),
                request, params, nowMs, verdict);
        }
        else
        {
            table.executeIgnoringAliases(request, params, nowMs, verdict);
        }
        final boolean answered = table.lastOutcome() == ConnTable.OUTCOME_ANSWERED;
        if (!answered)
        {
            nat.onOutcome(request, params, nowMs, verdict, batch, i);
        }
        if ((flags & BatchFlyweight.FLAG_PIPELINE) != 0)
        {
            if (i == 0)
            {
                state.stage.begin();
            }
            final int at = batch.fieldsOffset(i);
            state.stage.first(request, batch.buffer(), at,
                batch.buffer().getInt(at + PacketFields.GENERATION_OFFSET, ByteOrder.LITTLE_ENDIAN), verdict.buffer(),
                verdict.offset(), answered);
        }
    }

    @Override
    public void batchEnd()
    {
        final BatchFlyweight batch = endpoint.currentBatch();
        if ((batch.flags() & BatchFlyweight.FLAG_PIPELINE) != 0)
        {
            state.stage.second(state.flowTables.get(), batch.postCtTable(), batch.readParams(pipelineParams),
                batch.nowMs());
        }
        nat.batchEnd(batch);
    }
}
