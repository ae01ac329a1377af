package io.ctrack.engine.flow;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Runs packets through a pipeline of flow tables, on a packet thread, in one of two modes:
 * <ul>
 * <li>{@link Mode#RECIRCULATE}: Open vSwitch's way. The thread evaluates table 0, sends the packets through the
 * {@code ct} action, evaluates the table the action names with the ct fields it got, and sends the packets through
 * that flow's {@code ct} (the commit) in a second trip; every {@code ct} is one trip.</li>
 * <li>{@link Mode#SINGLE_PASS}: the thread evaluates table 0; the connection's bucket tracks the packet, evaluates
 * the post-ct table and executes that flow's {@code ct} in the same visit, and caches the flow for established
 * packets ({@link SinglePassStage}). Anything the bucket cannot finish (a {@code ct} into another zone or table, a
 * translation that needs another bucket, a packet held or forwarded) the thread finishes as in recirculation.</li>
 * </ul>
 * Order, in both modes: the packets of a batch go in batch order; consecutive packets that table 0 sends through
 * the same {@code ct} action travel together (one trip), then their post-ct table and the {@code ct} actions it
 * chooses, packet by packet in order, before the next run. Both modes therefore give every packet the same actions
 * and ct_state. A packet's result is its outputs (in action order; none means drop) and the ct_state of its last
 * {@code ct}. Not thread-safe: one per packet thread.
 */
public final class PipelineRunner
{
    /** The two ways to run a pipeline. */
    public enum Mode
    {
        RECIRCULATE, SINGLE_PASS;

        public static Mode parse(final String text)
        {
            return switch (text)
            {
                case "recirculate" -> RECIRCULATE;
                case "single-pass" -> SINGLE_PASS;
                default -> throw new IllegalArgumentException("mode must be 'recirculate' or 'single-pass', got '" + text + "'");
            };
        }
    }

    /** An output to {@code NORMAL} in {@link #outputs}. */
    public static final int NORMAL = -2;
    /** Recirculations a packet may go through before it is dropped (loops in the tables). */
    static final int MAX_DEPTH = 16;

    private final CtService service;
    private final Mode mode;
    private final int capacity;
    private final FrameParser parser = new FrameParser();
    private final ParsedFrame parsed = new ParsedFrame();
    private final PacketFields[] fields;
    private final Flow[] flowOf;
    private final int[] states;
    private final int[] zones;
    private final int[][] outputs;
    private final int[] outputCount;
    private final int[] members;
    private final int[][] runScratch;
    private final int[][] leftScratch;
    private final int[][] leftPlacesScratch;
    private final FrameBatch sub;
    private final int[] subInStates;
    private final UnsafeBuffer verdicts;
    private final UnsafeBuffer fieldRecords;
    private final Verdict verdict = new Verdict();
    private final Map<FlowAction.Ct, ExecParams> paramsOf = new IdentityHashMap<>();
    private FlowTables tables;
    private FrameBatch frames;
    private int[] inPorts;

    public PipelineRunner(final CtService service, final Mode mode, final int capacity)
    {
        this.service = service;
        this.mode = mode;
        this.capacity = capacity;
        this.fields = new PacketFields[capacity];
        for (int i = 0; i < capacity; i++)
        {
            fields[i] = new PacketFields();
        }
        this.flowOf = new Flow[capacity];
        this.states = new int[capacity];
        this.zones = new int[capacity];
        this.outputs = new int[capacity][8];
        this.outputCount = new int[capacity];
        this.members = new int[capacity];
        // A depth's runs, and single-pass's list of what is left, live while deeper levels use their own: one row
        // per depth.
        this.runScratch = new int[MAX_DEPTH + 1][capacity];
        this.leftScratch = new int[MAX_DEPTH + 1][capacity];
        this.leftPlacesScratch = new int[MAX_DEPTH + 1][capacity];
        this.sub = new FrameBatch(capacity);
        this.subInStates = new int[capacity];
        this.verdicts = new UnsafeBuffer(new byte[capacity * Verdict.NAT_LENGTH]);
        this.fieldRecords = new UnsafeBuffer(new byte[capacity * PacketFields.LENGTH]);
    }

    private long evaluatedWhereTracked;
    private long committedWhereTracked;

    public Mode mode()
    {
        return mode;
    }

    /** Packets whose post-ct table the connection's table evaluated (single-pass), so far. */
    public long evaluatedWhereTracked()
    {
        return evaluatedWhereTracked;
    }

    /** Of those, packets whose flow's {@code ct} was executed in the same visit. */
    public long committedWhereTracked()
    {
        return committedWhereTracked;
    }

    /**
     * Runs {@code frames} (frame {@code i} arrived on {@code inPorts[i]}) through {@code tables} at {@code nowMs}.
     * Translated frames are rewritten in place. Results: {@link #ctState}, {@link #outputs}, {@link #describe}.
     */
    public void run(final FlowTables tables, final FrameBatch frames, final int[] inPorts, final long nowMs)
    {
        final int n = frames.count();
        if (n > capacity)
        {
            throw new IllegalArgumentException("batch of " + n + ", capacity " + capacity);
        }
        this.tables = tables;
        this.frames = frames;
        this.inPorts = inPorts;
        for (int i = 0; i < n; i++)
        {
            parser.parse(frames.buffer(i), frames.offset(i), frames.length(i), parsed);
            fields[i].extract(parsed, inPorts[i]);
            states[i] = 0;
            zones[i] = -1;
            outputCount[i] = 0;
            members[i] = i;
        }
        runTable(members, n, 0, 0, nowMs, true);
    }

    /** The ct_state of packet {@code i}'s last {@code ct} (0 if it met none). */
    public int ctState(final int i)
    {
        return states[i];
    }

    /** Packet {@code i}'s outputs: ports, or {@link #NORMAL}; {@link #outputCount} of them. */
    public int[] outputs(final int i)
    {
        return outputs[i];
    }

    public int outputCount(final int i)
    {
        return outputCount[i];
    }

    /** Packet {@code i}'s actions as text: {@code output:2}, {@code NORMAL}, several joined by commas, or {@code drop}. */
    public String describe(final int i)
    {
        return describe(outputs[i], outputCount[i]);
    }

    /** The first {@code count} of {@code outputs} as text (see {@link #describe(int)}). */
    static String describe(final int[] outputs, final int count)
    {
        if (count == 0)
        {
            return "drop";
        }
        final StringBuilder s = new StringBuilder();
        for (int k = 0; k < count; k++)
        {
            if (k > 0)
            {
                s.append(',');
            }
            s.append(outputs[k] == NORMAL ? "NORMAL" : "output:" + outputs[k]);
        }
        return s.toString();
    }

    /** Evaluates {@code table} for the members, then runs their flows. */
    private void runTable(final int[] group, final int count, final int table, final int depth, final long nowMs,
        final boolean top)
    {
        if (depth >= MAX_DEPTH)
        {
            return;
        }
        for (int k = 0; k < count; k++)
        {
            final int i = group[k];
            flowOf[i] = tables.lookup(table, fields[i]);
        }
        runFlows(group, count, null, depth, nowMs, top && mode == Mode.SINGLE_PASS);
    }

    /**
     * For the members with their flows in {@link #flowOf}: outputs, then runs of consecutive members whose flows
     * share their first {@code ct} action go through it together. With {@code places} (each member's place in the
     * run it was taken from), members are consecutive only if their places are.
     */
    private void runFlows(final int[] group, final int count, final int[] places, final int depth, final long nowMs,
        final boolean singlePass)
    {
        int k = 0;
        while (k < count)
        {
            final int first = group[k];
            final Flow flow = flowOf[first];
            if (flow == null || flow.ct == null)
            {
                if (flow != null)
                {
                    emit(first, flow);
                }
                k++;
                continue;
            }
            final FlowAction.Ct ct = flow.ct;
            int end = k + 1;
            while (end < count && flowOf[group[end]] != null && flowOf[group[end]].ct == ct
                && (places == null || places[end] == places[end - 1] + 1))
            {
                end++;
            }
            final int[] run = runScratch[depth];
            final int n = end - k;
            System.arraycopy(group, k, run, 0, n);
            for (int r = 0; r < n; r++)
            {
                emit(run[r], flowOf[run[r]]);
            }
            if (singlePass && ct.table() >= 0 && flow.ctCount() == 1)
            {
                singlePass(run, n, ct, depth, nowMs);
            }
            else
            {
                ctTrip(run, n, ct, nowMs);
                // A flow with several ct actions: the later ones, one trip each, in order.
                boolean seenFirst = false;
                for (final FlowAction a : flow.actions)
                {
                    if (a instanceof FlowAction.Ct c)
                    {
                        if (!seenFirst)
                        {
                            seenFirst = true;
                            continue;
                        }
                        ctTrip(run, n, c, nowMs);
                    }
                }
                final int next = lastTable(flow);
                if (next >= 0)
                {
                    runTable(run, n, next, depth + 1, nowMs, false);
                }
            }
            k = end;
        }
    }

    /** The table the last recirculating ct of the flow names, or -1. */
    private static int lastTable(final Flow flow)
    {
        int next = -1;
        for (final FlowAction a : flow.actions)
        {
            if (a instanceof FlowAction.Ct c && c.table() >= 0)
            {
                next = c.table();
            }
        }
        return next;
    }

    private void emit(final int i, final Flow flow)
    {
        for (final int port : flow.outputs)
        {
            add(i, port);
        }
    }

    private void add(final int i, final int port)
    {
        if (outputCount[i] == outputs[i].length)
        {
            outputs[i] = java.util.Arrays.copyOf(outputs[i], outputs[i].length * 2);
        }
        outputs[i][outputCount[i]++] = port;
    }

    /** One trip through {@code ct} for the run; the packets take the ct fields it leaves. */
    private void ctTrip(final int[] run, final int n, final FlowAction.Ct ct, final long nowMs)
    {
        sub.clear();
        for (int k = 0; k < n; k++)
        {
            final int i = run[k];
            sub.add(frames.buffer(i), frames.offset(i), frames.length(i));
            // A packet that already met ct in this zone carries its state (so a translated one is found).
            subInStates[k] = zones[i] == ct.zone() ? states[i] : 0;
        }
        service.ct(sub, paramsOf.computeIfAbsent(ct, FlowAction.Ct::params), subInStates, nowMs, verdicts);
        for (int k = 0; k < n; k++)
        {
            afterCt(run[k], k, ct.zone());
        }
    }

    private void afterCt(final int i, final int k, final int zone)
    {
        verdict.wrap(verdicts, k * Verdict.NAT_LENGTH);
        states[i] = verdict.ctState();
        zones[i] = zone;
        // The next table sees the packet as rewritten and its ct fields.
        parser.parse(frames.buffer(i), frames.offset(i), frames.length(i), parsed);
        fields[i].extract(parsed, inPorts[i]).ct(verdict, zone);
    }

    /** Table 0's ct and the post-ct table in the bucket's visit; what it could not finish, finished here. */
    private void singlePass(final int[] run, final int n, final FlowAction.Ct ct, final int depth, final long nowMs)
    {
        sub.clear();
        for (int k = 0; k < n; k++)
        {
            final int i = run[k];
            sub.add(frames.buffer(i), frames.offset(i), frames.length(i));
            fields[i].writeTo(fieldRecords, k * PacketFields.LENGTH);
            fieldRecords.putInt(k * PacketFields.LENGTH + PacketFields.GENERATION_OFFSET, tables.generation(),
                java.nio.ByteOrder.LITTLE_ENDIAN);
        }
        service.ctSinglePass(sub, paramsOf.computeIfAbsent(ct, FlowAction.Ct::params), ct.table(),
            tables.generation(), fieldRecords, nowMs, verdicts);
        // What is left to this thread runs here, in batch order, as recirculation would run it: packets the bucket
        // only tracked (held, forwarded, built on rules it no longer has, or a share too large for one message) have
        // their table evaluated here; packets whose flow's ct a bucket left (from its first such packet on, a bucket
        // leaves all of them) keep the flow the bucket chose. One list, in the run's order.
        final int[] left = leftScratch[depth];
        final int[] leftPlaces = leftPlacesScratch[depth];
        int leftCount = 0;
        for (int k = 0; k < n; k++)
        {
            final int i = run[k];
            verdict.wrap(verdicts, k * Verdict.NAT_LENGTH);
            if (!verdict.hasPipeline())
            {
                afterCt(i, k, ct.zone());
                flowOf[i] = depth + 1 < MAX_DEPTH ? tables.lookup(ct.table(), fields[i]) : null;
                leftPlaces[leftCount] = k;
                left[leftCount++] = i;
                continue;
            }
            states[i] = verdict.ctState();
            zones[i] = ct.zone();
            evaluatedWhereTracked++;
            if ((verdict.pipelineFlags() & Verdict.PIPELINE_CT_DONE) != 0)
            {
                committedWhereTracked++;
            }
            final Flow flow = tables.flow(verdict.pipelineFlowId());
            flowOf[i] = flow;
            // Not resumed: the bucket finished it (no flow, a flow without ct, or its ct executed there) and only
            // its outputs are left, even after a packet another bucket resumed (other connections: their order does
            // not matter). Its ct must not run twice.
            if ((verdict.pipelineFlags() & Verdict.PIPELINE_RESUME) == 0)
            {
                if (flow != null)
                {
                    emit(i, flow);
                }
                continue;
            }
            if (flow != null)
            {
                parser.parse(frames.buffer(i), frames.offset(i), frames.length(i), parsed);
                fields[i].extract(parsed, inPorts[i]).ct(verdict, ct.zone());
                leftPlaces[leftCount] = k;
                left[leftCount++] = i;
            }
        }
        if (leftCount > 0)
        {
            // The trips are recirculation's: a packet finished in its bucket ends one (as its other flow, or its ct
            // done, would in recirculation), so a later packet's ct still comes after an earlier one's next table.
            runFlows(left, leftCount, leftPlaces, depth + 1, nowMs, false);
        }
    }

    /** The verdicts buffer of the last trip (frame {@code k} of it at {@code k * Verdict.NAT_LENGTH}). */
    MutableDirectBuffer lastVerdicts()
    {
        return verdicts;
    }
}
