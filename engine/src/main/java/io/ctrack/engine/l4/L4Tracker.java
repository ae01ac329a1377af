package io.ctrack.engine.l4;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.table.ConnEntry;

/**
 * What a protocol contributes to tracking: whether a packet may start a connection, the state of a new
 * connection, and the update of an existing one by a packet (Open vSwitch's {@code struct ct_l4_proto}).
 */
public interface L4Tracker
{
    /** The packet is accepted and the connection established (it has seen both directions). */
    int VALID = 0;
    /** The packet starts the connection over: remove it and treat the packet as new. */
    int NEW = 1;
    /** The packet is accepted but the connection is not established yet ({@code new}). */
    int VALID_NEW = 2;
    /** Results with this bit are invalid; the low byte is the counter id of the reason. */
    int INVALID = 0x100;

    static boolean isInvalid(final int result)
    {
        return (result & INVALID) != 0;
    }

    static int invalid(final io.ctrack.engine.status.EngineCounter reason)
    {
        return INVALID | reason.id();
    }

    /** Whether this packet may create a connection. */
    boolean validNew(CtRequest request);

    /** Initialises the state and expiration of a connection this packet creates. */
    void create(ConnEntry entry, CtRequest request, long nowMs);

    /** Updates a connection with a packet; {@code reply} when it travels in the reply direction. */
    int update(ConnEntry entry, CtRequest request, boolean reply, long nowMs, boolean sequenceCheck);

    /** Appends the {@code protoinfo=(...)} body of a dump line, or nothing for protocols without one. */
    void appendProtoInfo(ConnEntry entry, StringBuilder out);
}
