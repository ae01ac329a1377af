package io.ctrack.engine.table;

import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.engine.timeout.TimeoutPolicies;

import static io.ctrack.engine.table.ConnStore.*;

/**
 * Flyweight over one connection entry: what the L4 trackers read and write (TCP peers, the small state of
 * other protocols, the expiration) and what dumps print (keys, mark, label). Re-wrapped per packet by the
 * owning table; never retained.
 */
public final class ConnEntry
{
    private final ConnTableStorage table;
    /** The default policy's timeouts in milliseconds by attribute ordinal: the policies' live array. */
    private final long[] defaultMillis;
    long[] d;
    int b;
    int ref;
    ConnStore store;
    boolean creating;

    ConnEntry(final ConnTableStorage table, final long[] defaultMillis)
    {
        this.table = table;
        this.defaultMillis = defaultMillis;
    }

    ConnEntry wrap(final ConnStore store, final int ref)
    {
        this.store = store;
        this.d = store.data;
        this.ref = Refs.entry(ref);
        this.b = Refs.slot(ref) * store.stride;
        return this;
    }

    // ---- TCP peers: peer 0 sent the connection's first packet, peer 1 is the other end -----------------------

    public int seqLo(final int peer)
    {
        return (int)(d[b + TCP0 + peer] >>> 32);
    }

    public int seqHi(final int peer)
    {
        return (int)d[b + TCP0 + peer];
    }

    public void seqLo(final int peer, final int value)
    {
        final int i = b + TCP0 + peer;
        d[i] = ((long)value << 32) | (d[i] & 0xFFFF_FFFFL);
    }

    public void seqHi(final int peer, final int value)
    {
        final int i = b + TCP0 + peer;
        d[i] = (d[i] & 0xFFFF_FFFF_0000_0000L) | (value & 0xFFFF_FFFFL);
    }

    private int misc(final int peer)
    {
        return (int)(d[b + TCP_MISC] >>> (peer << 5));
    }

    private void misc(final int peer, final int value)
    {
        final int shift = peer << 5;
        final int i = b + TCP_MISC;
        d[i] = (d[i] & ~(0xFFFF_FFFFL << shift)) | ((value & 0xFFFF_FFFFL) << shift);
    }

    /** Largest window the peer advertised, before scaling (16 bits). */
    public int maxWin(final int peer)
    {
        return misc(peer) & 0xFFFF;
    }

    public void maxWin(final int peer, final int value)
    {
        misc(peer, (misc(peer) & 0xFFFF_0000) | (value & 0xFFFF));
    }

    /** Window scale as Open vSwitch keeps it: shift in the low 4 bits, 0x80 seen, 0x40 unknown. */
    public int wscale(final int peer)
    {
        return (misc(peer) >>> 16) & 0xFF;
    }

    public void wscale(final int peer, final int value)
    {
        misc(peer, (misc(peer) & 0xFF00_FFFF) | ((value & 0xFF) << 16));
    }

    /** TCP state of the peer ({@code io.ctrack.engine.tcp.TcpState} ordinal). */
    public int tcpState(final int peer)
    {
        return misc(peer) >>> 24;
    }

    public void tcpState(final int peer, final int value)
    {
        misc(peer, (misc(peer) & 0x00FF_FFFF) | (value << 24));
    }

    // ---- other protocols ------------------------------------------------------------------------------------

    /** State of a UDP/other or ICMP connection (two bits). */
    public int smallState()
    {
        return (int)(d[b + META] >>> Meta.SMALL_STATE_SHIFT) & 3;
    }

    public void smallState(final int state)
    {
        d[b + META] = (d[b + META] & ~(3L << Meta.SMALL_STATE_SHIFT)) | ((long)state << Meta.SMALL_STATE_SHIFT);
    }

    // ---- timing ---------------------------------------------------------------------------------------------

    /** Sets the expiration to {@code nowMs} plus {@code attr} of the connection's timeout policy. */
    public void expireAfter(final TimeoutAttr attr, final long nowMs)
    {
        // Most connections have the default policy: read its array straight, not through the policies' lookup.
        final int policy = (int)(d[b + META] >>> Meta.POLICY_SHIFT) & 0xFFFF;
        final long expiration = nowMs + (policy == TimeoutPolicies.DEFAULT_POLICY
            ? defaultMillis[attr.ordinal()] : table.timeoutMillis(policy, attr));
        final long previous = d[b + EXPIRATION];
        d[b + EXPIRATION] = expiration;
        if (!creating && expiration < previous)
        {
            table.expirationShortened(ref, expiration);
        }
    }

    public long expirationMs()
    {
        return d[b + EXPIRATION];
    }

    // ---- identity and key -------------------------------------------------------------------------------------

    public boolean isIpv6()
    {
        return Refs.isV6(ref);
    }

    public int nwProto()
    {
        return Meta.proto(d[b + META]);
    }

    public int zone()
    {
        return Meta.zone(d[b + META]);
    }

    public int policyId()
    {
        return Meta.policy(d[b + META]);
    }

    public int mark()
    {
        return (int)d[b + MARK];
    }

    public long id()
    {
        return d[b + ID];
    }

    public long labelLo()
    {
        return store.labels == null ? 0 : store.labels[Refs.slot(ref) * 2];
    }

    public long labelHi()
    {
        return store.labels == null ? 0 : store.labels[Refs.slot(ref) * 2 + 1];
    }

    public int origSrcL4()
    {
        return (int)(d[b + ORIG_L4] >>> 32);
    }

    public int origDstL4()
    {
        return (int)d[b + ORIG_L4];
    }

    /** IPv4 source address (network order as a number). */
    public int origSrcV4()
    {
        return (int)(d[b + ORIG_ADDR] >>> 32);
    }

    public int origDstV4()
    {
        return (int)d[b + ORIG_ADDR];
    }

    /** IPv6 address words: 0 src hi, 1 src lo, 2 dst hi, 3 dst lo. */
    public long origV6(final int word)
    {
        return d[b + ORIG_ADDR + word];
    }

    /** Whether the reply key is stored apart (a translated connection) rather than the reversed original key. */
    public boolean hasReplyKey()
    {
        return (d[b + META] & Meta.HAS_REPLY_KEY) != 0;
    }

    public int replySrcL4()
    {
        return hasReplyKey() ? (int)(store.replyL4[Refs.slot(ref)] >>> 32) : origDstL4();
    }

    public int replyDstL4()
    {
        return hasReplyKey() ? (int)store.replyL4[Refs.slot(ref)] : origSrcL4();
    }

    public int replySrcV4()
    {
        return hasReplyKey() ? (int)(store.replyAddr[Refs.slot(ref)] >>> 32) : origDstV4();
    }

    public int replyDstV4()
    {
        return hasReplyKey() ? (int)store.replyAddr[Refs.slot(ref)] : origSrcV4();
    }

    /** Reply-key IPv6 address words: 0 src hi, 1 src lo, 2 dst hi, 3 dst lo. */
    public long replyV6(final int word)
    {
        if (hasReplyKey())
        {
            return store.replyAddr[Refs.slot(ref) * 4 + word];
        }
        return origV6(word ^ 2);
    }
}
