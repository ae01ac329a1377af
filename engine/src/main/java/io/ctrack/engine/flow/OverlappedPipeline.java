package io.ctrack.engine.flow;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Single-pass with several batches in flight: the packet thread evaluates table 0 of batch N+1 and sends it on while
 * the connection tables still work on batch N. Recirculation cannot do this: it needs batch N's ct_state to evaluate
 * its next table and send its commits before batch N+1's packets may be tracked. Single-pass can, for pipelines in
 * which the bucket always finishes a packet in one visit ({@link #ineligibility}): every {@code ct} of batch N then
 * happens in its bucket before any {@code ct} of batch N+1 there (a bucket takes one packet thread's messages in
 * order), so every connection sees the same packets in the same order as with one batch at a time, and every packet
 * gets the actions and ct_state that {@link PipelineRunner} (either mode) gives it.
 * <p>
 * Results are handed to a {@link Listener} in submission order. Rules changed with batches in flight: the runner
 * waits for them before it submits a batch of a new generation; a bucket that meets another generation anyway
 * (its rules changed behind the runner's back), or that fails later in a message (the packets it tracked before
 * the failure were not evaluated; the later ones are answered "dropped"), leaves packets to this thread, which
 * finishes them late ({@link #lateCount}, possibly after later batches were tracked). Not thread-safe: one per
 * packet thread.
 */
public final class OverlappedPipeline
{
    /** A finished batch's results, valid during {@link Listener#onBatch}. */
    public interface Results
    {
        int count();

        /** The ct_state of packet {@code i}'s last {@code ct} (0 if it met none). */
        int ctState(int i);

        int outputCount(int i);

        /** Output {@code k} of packet {@code i}: a port or {@link PipelineRunner#NORMAL}. */
        int output(int i, int k);

        /** The actions as {@link PipelineRunner#describe} gives them. */
        String describe(int i);
    }

    /** Told of each batch when its results are complete, in submission order. */
    @FunctionalInterface
    public interface Listener
    {
        void onBatch(long number, Results results);
    }

    private final AsyncCtService service;
    private final int capacity;
    private final Slot[] slots;
    private final FrameParser parser = new FrameParser();
    private final ParsedFrame parsed = new ParsedFrame();
    private final PacketFields fields = new PacketFields();
    private final UnsafeBuffer fieldRecords;
    private final FrameBatch sub;
    private final Verdict verdict = new Verdict();
    private final Map<FlowAction.Ct, ExecParams> paramsOf = new IdentityHashMap<>();
    private final FrameBatch lateFrame = new FrameBatch(1);
    private final int[] lateInState = new int[1];
    private final UnsafeBuffer lateVerdict = new UnsafeBuffer(new byte[Verdict.NAT_LENGTH]);
    private final java.util.function.LongConsumer onFinished = this::onFinished;
    private Listener listener = (number, results) -> { };
    private long submitted;
    private long delivered;
    private int lastGeneration = Integer.MIN_VALUE;
    private long late;
    private int peakInFlight;
    private long evaluatedWhereTracked;
    private long committedWhereTracked;

    /**
     * @param capacity most packets per batch; at most {@link AsyncCtService#maxWholeRun()}.
     * @param inFlight batches that may be in flight at once.
     */
    public OverlappedPipeline(final AsyncCtService service, final int capacity, final int inFlight)
    {
        if (capacity < 1 || capacity > service.maxWholeRun())
        {
            throw new IllegalArgumentException("batches of 1-" + service.maxWholeRun() + " packets, not " + capacity);
        }
        if (inFlight < 1)
        {
            throw new IllegalArgumentException("at least one batch in flight, not " + inFlight);
        }
        this.service = service;
        this.capacity = capacity;
        this.slots = new Slot[inFlight];
        for (int s = 0; s < inFlight; s++)
        {
            slots[s] = new Slot(capacity);
        }
        this.fieldRecords = new UnsafeBuffer(new byte[capacity * PacketFields.LENGTH]);
        this.sub = new FrameBatch(capacity);
    }

    /**
     * Null if batches of {@code tables} may overlap, else why not: every flow of table 0 with a {@code ct} must have
     * exactly one, naming a table, without NAT; every flow of that table with a {@code ct} must have exactly one,
     * in the same zone, naming no table, without NAT (a commit, usually). Then a bucket finishes every packet.
     */
    public static String ineligibility(final FlowTables tables)
    {
        for (int id = 1; id <= tables.flowCount(); id++)
        {
            final Flow first = tables.flow(id);
            if (first.table != 0 || first.ct == null)
            {
                continue;
            }
            if (first.ctCount() != 1 || first.ct.table() < 0 || first.ct.nat() != null)
            {
                return "table 0, line " + first.line + ": its ct must be the only one, name a table and not translate";
            }
            for (int other = 1; other <= tables.flowCount(); other++)
            {
                final Flow next = tables.flow(other);
                if (next.table == first.ct.table() && next.ct != null && (next.ctCount() != 1 || next.ct.table() >= 0
                    || next.ct.zone() != first.ct.zone() || next.ct.nat() != null))
                {
                    return "table " + next.table + ", line " + next.line
                        + ": its ct must be the only one, in the zone of table 0's ct, name no table and not translate";
                }
            }
        }
        return null;
    }

    public OverlappedPipeline listener(final Listener listener)
    {
        this.listener = listener;
        return this;
    }

    /**
     * Packets a bucket tracked but did not finish (its rules changed behind this runner, or it failed later in the
     * same message), finished by this thread after their batch, possibly after later batches were tracked (see the
     * class comment).
     */
    public long lateCount()
    {
        return late;
    }

    /** The most batches that were in flight at once (submitted, not yet delivered). */
    public int peakInFlight()
    {
        return peakInFlight;
    }

    public long evaluatedWhereTracked()
    {
        return evaluatedWhereTracked;
    }

    public long committedWhereTracked()
    {
        return committedWhereTracked;
    }

    /**
     * Starts {@code frames} (frame {@code i} arrived on {@code inPorts[i]}) through {@code tables} at {@code nowMs};
     * returns the batch's number (from 0). Waits only while every slot is taken. The frames' bytes must stay as
     * they are until the batch is delivered.
     */
    public long submit(final FlowTables tables, final FrameBatch frames, final int[] inPorts, final long nowMs)
    {
        final int n = frames.count();
        if (n > capacity)
        {
            throw new IllegalArgumentException("batch of " + n + ", capacity " + capacity);
        }
        if (tables.generation() != lastGeneration)
        {
            final String why = ineligibility(tables);
            if (why != null)
            {
                throw new IllegalArgumentException("these tables cannot overlap batches: " + why);
            }
            // The buckets must not meet a batch of the new rules before every batch of the old ones is done.
            drain();
            lastGeneration = tables.generation();
            paramsOf.clear();
        }
        while (submitted - delivered == slots.length)
        {
            pollAndWait();
        }
        final long number = submitted++;
        final Slot slot = slots[(int)(number % slots.length)];
        slot.start(number, tables, frames, inPorts, nowMs);
        for (int i = 0; i < n; i++)
        {
            parser.parse(frames.buffer(i), frames.offset(i), frames.length(i), parsed);
            fields.extract(parsed, inPorts[i]);
            final Flow flow = tables.lookup(0, fields);
            slot.first[i] = flow;
            if (flow != null)
            {
                slot.emit(i, flow);
                if (flow.ct != null)
                {
                    fields.writeTo(fieldRecords, i * PacketFields.LENGTH);
                    fieldRecords.putInt(i * PacketFields.LENGTH + PacketFields.GENERATION_OFFSET, tables.generation(),
                        ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
        // Runs: consecutive packets whose table-0 flows share their ct, one start each, in order.
        int i = 0;
        while (i < n)
        {
            final Flow flow = slot.first[i];
            if (flow == null || flow.ct == null)
            {
                i++;
                continue;
            }
            int end = i + 1;
            while (end < n && slot.first[end] != null && slot.first[end].ct == flow.ct)
            {
                end++;
            }
            startRun(number, slot, flow.ct, i, end);
            i = end;
        }
        peakInFlight = Math.max(peakInFlight, (int)(submitted - delivered));
        if (slot.pendingRuns == 0)
        {
            deliverDone();
        }
        return number;
    }

    private void startRun(final long number, final Slot slot, final FlowAction.Ct ct, final int from, final int to)
    {
        sub.clear();
        for (int k = from; k < to; k++)
        {
            sub.add(slot.frames.buffer(k), slot.frames.offset(k), slot.frames.length(k));
        }
        final UnsafeBuffer records = slot.recordView.wrapWith(fieldRecords, from * PacketFields.LENGTH,
            (to - from) * PacketFields.LENGTH);
        final UnsafeBuffer verdicts = slot.views[slot.runs];
        verdicts.wrap(slot.verdicts, from * Verdict.NAT_LENGTH, (to - from) * Verdict.NAT_LENGTH);
        slot.runStart[slot.runs] = from;
        slot.runEnd[slot.runs] = to;
        slot.runCt[slot.runs] = ct;
        final long tag = number * (capacity + 1) + slot.runs;
        slot.runs++;
        slot.pendingRuns++;
        final ExecParams params = paramsOf.computeIfAbsent(ct, FlowAction.Ct::params);
        while (!service.startSinglePass(sub, params, ct.table(), slot.tables.generation(), records, slot.nowMs,
            verdicts, tag))
        {
            pollAndWait();
        }
    }

    /** Collects finished batches (without waiting) and delivers the complete ones in order; returns how many. */
    public int poll()
    {
        service.poll(onFinished);
        return deliverDone();
    }

    /** Waits until every submitted batch is delivered. */
    public void drain()
    {
        while (delivered < submitted)
        {
            pollAndWait();
        }
    }

    private void pollAndWait()
    {
        if (service.poll(onFinished) == 0)
        {
            Thread.onSpinWait();
        }
        deliverDone();
    }

    private void onFinished(final long tag)
    {
        final long number = tag / (capacity + 1);
        final Slot slot = slots[(int)(number % slots.length)];
        if (slot.number == number)
        {
            slot.pendingRuns--;
        }
    }

    private int deliverDone()
    {
        int count = 0;
        while (delivered < submitted)
        {
            final Slot slot = slots[(int)(delivered % slots.length)];
            if (slot.pendingRuns > 0)
            {
                break;
            }
            finish(slot);
            listener.onBatch(delivered, slot);
            delivered++;
            count++;
        }
        return count;
    }

    /** The post-ct flows the buckets chose (or, for what they left, this thread's), after their verdicts. */
    private void finish(final Slot slot)
    {
        for (int r = 0; r < slot.runs; r++)
        {
            final FlowAction.Ct ct = slot.runCt[r];
            for (int i = slot.runStart[r]; i < slot.runEnd[r]; i++)
            {
                verdict.wrap(slot.verdicts, i * Verdict.NAT_LENGTH);
                slot.states[i] = verdict.ctState();
                if (verdict.hasPipeline() && (verdict.pipelineFlags() & Verdict.PIPELINE_RESUME) == 0)
                {
                    evaluatedWhereTracked++;
                    if ((verdict.pipelineFlags() & Verdict.PIPELINE_CT_DONE) != 0)
                    {
                        committedWhereTracked++;
                    }
                    final Flow flow = slot.tables.flow(verdict.pipelineFlowId());
                    if (flow != null)
                    {
                        slot.emit(i, flow);
                    }
                }
                else if ((verdict.flags() & Verdict.FLAG_DROPPED) == 0)
                {
                    // Invalid before any table (not IP, bad checksum...) or a held fragment: no table holds
                    // anything of it, so finishing it here after later batches changes nothing. Anything else a
                    // bucket left may be late.
                    if (!answeredByPacketThread())
                    {
                        late++;
                    }
                    finishHere(slot, i, ct);
                }
            }
        }
    }

    /** Whether the verdict being finished was given by the packet thread, before any table. */
    private boolean answeredByPacketThread()
    {
        return !verdict.hasPipeline() && ((verdict.flags() & Verdict.FLAG_HELD) != 0
            || (verdict.ctState() & io.ctrack.engine.ct.CtState.INVALID) != 0 && verdict.reason() != 0);
    }

    /** A packet its bucket left: its post-ct table here, and that flow's ct now (after later batches, if any). */
    private void finishHere(final Slot slot, final int i, final FlowAction.Ct ct)
    {
        parser.parse(slot.frames.buffer(i), slot.frames.offset(i), slot.frames.length(i), parsed);
        fields.extract(parsed, slot.inPorts[i]).ct(verdict, ct.zone());
        final Flow flow = slot.tables.lookup(ct.table(), fields);
        if (flow == null)
        {
            return;
        }
        slot.emit(i, flow);
        if (flow.ct != null)
        {
            lateFrame.clear();
            lateFrame.add(slot.frames.buffer(i), slot.frames.offset(i), slot.frames.length(i));
            lateInState[0] = flow.ct.zone() == ct.zone() ? slot.states[i] : 0;
            service.ct(lateFrame, paramsOf.computeIfAbsent(flow.ct, FlowAction.Ct::params), lateInState, slot.nowMs,
                lateVerdict);
            slot.states[i] = verdict.wrap(lateVerdict, 0).ctState();
        }
    }

    /** One batch in flight: its frames, its runs' verdicts and its results. */
    private static final class Slot implements Results
    {
        final FrameBatch frames;
        final int[] inPorts;
        final Flow[] first;
        final int[] states;
        final int[][] outputs;
        final int[] outputCount;
        final UnsafeBuffer verdicts;
        final UnsafeBuffer[] views;
        final RecordView recordView = new RecordView();
        final int[] runStart;
        final int[] runEnd;
        final FlowAction.Ct[] runCt;
        FlowTables tables;
        long nowMs;
        long number = -1;
        int runs;
        int pendingRuns;

        Slot(final int capacity)
        {
            frames = new FrameBatch(capacity);
            inPorts = new int[capacity];
            first = new Flow[capacity];
            states = new int[capacity];
            outputs = new int[capacity][4];
            outputCount = new int[capacity];
            verdicts = new UnsafeBuffer(new byte[capacity * Verdict.NAT_LENGTH]);
            views = new UnsafeBuffer[capacity];
            for (int k = 0; k < capacity; k++)
            {
                views[k] = new UnsafeBuffer(0, 0);
            }
            runStart = new int[capacity];
            runEnd = new int[capacity];
            runCt = new FlowAction.Ct[capacity];
        }

        void start(final long number, final FlowTables tables, final FrameBatch source, final int[] ports,
            final long nowMs)
        {
            this.tables = tables;
            this.nowMs = nowMs;
            this.number = number;
            frames.clear();
            for (int i = 0; i < source.count(); i++)
            {
                frames.add(source.buffer(i), source.offset(i), source.length(i));
                inPorts[i] = ports[i];
                states[i] = 0;
                outputCount[i] = 0;
            }
            runs = 0;
            pendingRuns = 0;
        }

        void emit(final int i, final Flow flow)
        {
            for (final int port : flow.outputs)
            {
                if (outputCount[i] == outputs[i].length)
                {
                    outputs[i] = java.util.Arrays.copyOf(outputs[i], outputs[i].length * 2);
                }
                outputs[i][outputCount[i]++] = port;
            }
        }

        @Override
        public int count()
        {
            return frames.count();
        }

        @Override
        public int ctState(final int i)
        {
            return states[i];
        }

        @Override
        public int outputCount(final int i)
        {
            return outputCount[i];
        }

        @Override
        public int output(final int i, final int k)
        {
            return outputs[i][k];
        }

        @Override
        public String describe(final int i)
        {
            return PipelineRunner.describe(outputs[i], outputCount[i]);
        }
    }

    /** A reusable view of part of the field records. */
    private static final class RecordView extends UnsafeBuffer
    {
        RecordView()
        {
            super(0, 0);
        }

        UnsafeBuffer wrapWith(final UnsafeBuffer buffer, final int offset, final int length)
        {
            wrap(buffer, offset, length);
            return this;
        }
    }
}
