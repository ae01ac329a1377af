package io.ctrack.engine.flow;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Connection tracking as a pipeline uses it: the embedded engine, or a packet worker of a node.
 */
public interface CtService
{
    /**
     * The {@code ct} action {@code params} on every frame of {@code frames} (translated frames are rewritten in
     * place); the verdict of frame {@code i}, with its NAT part, is written at {@code i * Verdict.NAT_LENGTH}.
     * {@code inStates[i]} is the ct_state frame {@code i} already carries from an earlier {@code ct} in the same
     * zone (0 otherwise), so an already translated packet is found by its reversed key, as in Open vSwitch.
     */
    void ct(FrameBatch frames, ExecParams params, int[] inStates, long nowMs, MutableDirectBuffer verdicts);

    /**
     * {@link #ct} and then, where the connection is tracked, the post-ct table {@code postCtTable} of the pipeline
     * of generation {@code generation} (single-pass); the fields of frame {@code i} are at
     * {@code i * PacketFields.LENGTH} of {@code fields}. A verdict that carries the pipeline part names the flow
     * the table matched (and whether its {@code ct} was executed there); one that does not was only tracked (the
     * caller evaluates the table).
     */
    void ctSinglePass(FrameBatch frames, ExecParams params, int postCtTable, int generation, DirectBuffer fields,
        long nowMs, MutableDirectBuffer verdicts);
}
