package io.ctrack.engine.tcp;

/**
 * TCP peer states in Open vSwitch's order ({@code CT_DPIF_TCP_STATES}); comparisons use the ordinal.
 */
public enum TcpState
{
    CLOSED, LISTEN, SYN_SENT, SYN_RECV, ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, CLOSING, LAST_ACK, FIN_WAIT_2, TIME_WAIT;

    private static final TcpState[] VALUES = values();

    public static TcpState byOrdinal(final int ordinal)
    {
        return VALUES[ordinal];
    }

    /**
     * The single state a non-verbose dump prints for a connection: the larger of the two peers' states, with
     * FIN_WAIT_2 shown as TIME_WAIT and SYN_RECV as ESTABLISHED (Open vSwitch's {@code coalesce_tcp_state}).
     */
    public static TcpState coalesced(final int peer0, final int peer1)
    {
        final TcpState state = VALUES[Math.max(peer0, peer1)];
        if (state == FIN_WAIT_2)
        {
            return TIME_WAIT;
        }
        if (state == SYN_RECV)
        {
            return ESTABLISHED;
        }
        return state;
    }
}
