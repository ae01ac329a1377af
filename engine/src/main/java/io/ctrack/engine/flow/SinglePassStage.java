package io.ctrack.engine.flow;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.table.ConnTable;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The single-pass pipeline where a connection table lives: for a run of packets that a pipeline sent through the
 * same {@code ct(...,table=N)}, track them all ({@link #first}), then for each, in order, evaluate table N with the
 * packet's ct fields and, in the same visit, execute that flow's {@code ct} action (a commit, usually) when it
 * stays in this table's zone ({@link #second}). For established packets the flow table N chose is cached on the
 * connection, per direction, under the pipeline's generation, the input port, the ct_state and N: the next packet
 * skips the table. A changed pipeline (new generation) or a changed mark or label (the cache is cleared) means a
 * fresh evaluation. The outcome is identical to the worker doing the same steps one {@code ct} at a time
 * (recirculation), which the tests check.
 * <p>
 * One per table; not thread-safe.
 */
public final class SinglePassStage
{
    private final ConnTable table;
    private final boolean natAllLocal;
    private int count;
    private CtRequest[] requests = new CtRequest[0];
    private PacketFields[] fields = new PacketFields[0];
    private org.agrona.MutableDirectBuffer[] verdictBuffers = new org.agrona.MutableDirectBuffer[0];
    private final byte[] natPart = new byte[24];
    private int[] verdictOffsets = new int[0];
    private boolean[] answered = new boolean[0];
    private int[] connRefs = new int[0];
    private boolean[] connReplies = new boolean[0];
    private int[] generations = new int[0];
    private final Verdict verdict = new Verdict();
    private final Verdict scratch = new Verdict().wrap(new UnsafeBuffer(new byte[Verdict.NAT_LENGTH]), 0);
    private final Map<FlowAction.Ct, ExecParams> paramsOf = new IdentityHashMap<>();

    /**
     * @param natAllLocal whether a NAT commit can complete in this table alone (one bucket): otherwise a flow whose
     *                    {@code ct} translates is left to the caller, who may need another bucket's reservation.
     */
    public SinglePassStage(final ConnTable table, final boolean natAllLocal)
    {
        this.table = table;
        this.natAllLocal = natAllLocal;
    }

    /** Starts a run of packets. */
    public void begin()
    {
        count = 0;
    }

    /**
     * Records packet {@code count} of the run after the table tracked it: its request, its fields (the record the
     * pipeline sent, at {@code recordOffset} of {@code records}), where its verdict is, and whether the table
     * answered it (held or forwarded packets are not evaluated here).
     */
    public void first(final CtRequest request, final org.agrona.DirectBuffer records, final int recordOffset,
        final int generation, final org.agrona.MutableDirectBuffer verdictBuffer, final int verdictOffset,
        final boolean tableAnswered)
    {
        ensure(count + 1);
        requests[count].copyFrom(request);
        fields[count].readFrom(records, recordOffset);
        generations[count] = generation;
        verdictBuffers[count] = verdictBuffer;
        verdictOffsets[count] = verdictOffset;
        answered[count] = tableAnswered;
        connRefs[count] = tableAnswered ? table.lastConnRef() : 0;
        connReplies[count] = table.lastConnReply();
        count++;
    }

    /** Evaluates table {@code postCtTable} of {@code tables} for every answered packet of the run, in order. */
    public void second(final FlowTables tables, final int postCtTable, final ExecParams params, final long nowMs)
    {
        // Once one packet's ct is left to the worker, so are all the later ones: the worker runs them in order.
        boolean resumed = false;
        for (int i = 0; i < count; i++)
        {
            if (!answered[i] || tables == null || generations[i] != tables.generation())
            {
                // Held, forwarded, or the pipeline changed meanwhile: the worker evaluates the table itself.
                continue;
            }
            verdict.wrap(verdictBuffers[i], verdictOffsets[i]);
            if ((verdict.flags() & (Verdict.FLAG_DROPPED | Verdict.FLAG_HELD)) != 0)
            {
                continue;
            }
            final PacketFields f = fields[i].ct(verdict, params.zone()).applyNat(verdict);
            final int state = verdict.ctState();
            final int ref = connRefs[i];
            final boolean cacheable = ref != 0
                && (state & ~(CtState.REPLY_DIR | CtState.SRC_NAT | CtState.DST_NAT)) == (CtState.ESTABLISHED | CtState.TRACKED);
            final long key = (long)tables.generation() << 32 | (long)(f.inPort & 0xFFFF) << 16 | (state & 0xFF) << 8
                | (postCtTable & 0xFF);
            Flow flow = null;
            if (cacheable)
            {
                flow = tables.flow(table.cachedFlow(ref, connReplies[i], key));
            }
            final boolean fromCache = flow != null;
            if (flow == null)
            {
                flow = tables.lookup(postCtTable, f);
            }
            if (flow == null)
            {
                verdict.pipeline(0, 0);
                continue;
            }
            final FlowAction.Ct ct = flow.ct;
            if (ct == null)
            {
                if (cacheable && !fromCache)
                {
                    table.cacheFlow(ref, connReplies[i], key, flow.id);
                }
                verdict.pipeline(flow.id, 0);
                continue;
            }
            // A translated packet meets its next ct with its rewritten key (found by the reversed one): the packet
            // thread has that key, this table only the original.
            if (resumed || flow.ctCount() != 1 || ct.table() >= 0 || ct.zone() != params.zone()
                || (ct.nat() != null && !natAllLocal) || (state & (CtState.SRC_NAT | CtState.DST_NAT)) != 0)
            {
                resumed = true;
                verdict.pipeline(flow.id, Verdict.PIPELINE_RESUME);
                continue;
            }
            // The flow's ct (a commit, usually) in the same visit: the same packet, tracked again in this zone,
            // carrying the ct_state its first ct gave it (as a packet does into a second ct in the same zone).
            requests[i].inState(state);
            table.execute(requests[i], paramsOf.computeIfAbsent(ct, FlowAction.Ct::params), nowMs, scratch);
            if (table.lastOutcome() != ConnTable.OUTCOME_ANSWERED)
            {
                // Cannot happen without cross-bucket NAT (excluded above); answer as the worker would find it.
                resumed = true;
                verdict.pipeline(flow.id, Verdict.PIPELINE_RESUME);
                continue;
            }
            final boolean hadNat = verdict.hasNat();
            if (hadNat)
            {
                verdictBuffers[i].getBytes(verdictOffsets[i] + Verdict.NAT_OP_OFFSET, natPart);
            }
            // The packet's verdict is the last ct's; a translation either ct made is the packet's.
            scratch.copyWithNatTo(verdict);
            if (!scratch.hasNat() && hadNat)
            {
                verdictBuffers[i].putBytes(verdictOffsets[i] + Verdict.NAT_OP_OFFSET, natPart);
                verdictBuffers[i].putByte(verdictOffsets[i] + Verdict.FLAGS_OFFSET,
                    (byte)(verdict.flags() | Verdict.FLAG_NAT));
            }
            verdict.pipeline(flow.id, Verdict.PIPELINE_CT_DONE);
        }
    }

    private void ensure(final int n)
    {
        if (requests.length >= n)
        {
            return;
        }
        final int size = Math.max(n, requests.length * 2 + 8);
        requests = java.util.Arrays.copyOf(requests, size);
        fields = java.util.Arrays.copyOf(fields, size);
        for (int i = 0; i < size; i++)
        {
            if (requests[i] == null)
            {
                requests[i] = new CtRequest();
                fields[i] = new PacketFields();
            }
        }
        verdictBuffers = java.util.Arrays.copyOf(verdictBuffers, size);
        verdictOffsets = java.util.Arrays.copyOf(verdictOffsets, size);
        answered = java.util.Arrays.copyOf(answered, size);
        connRefs = java.util.Arrays.copyOf(connRefs, size);
        connReplies = java.util.Arrays.copyOf(connReplies, size);
        generations = java.util.Arrays.copyOf(generations, size);
    }
}
