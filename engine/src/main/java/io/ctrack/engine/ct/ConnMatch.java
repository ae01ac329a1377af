package io.ctrack.engine.ct;

import io.ctrack.engine.packet.Protocols;
import io.ctrack.engine.table.ConnEntry;

/**
 * A partial connection match, as {@code ovs-dpctl flush-conntrack} takes it ({@code ofp_ct_match} and
 * {@code ct_dpif_entry_cmp}): every field that is set must equal the connection's; unset fields match anything.
 * Addresses and ports are matched in the original and/or the reply tuple; ICMP id, type and code are always
 * compared when the protocol is ICMP (unset means 0). Mark and labels are compared under their masks.
 * Immutable.
 *
 * @param family   0 any, 4 IPv4, 6 IPv6.
 * @param proto    0 any, else the IP protocol.
 * @param orig     partial original tuple, or null.
 * @param reply    partial reply tuple, or null.
 */
public record ConnMatch(int family, int proto, Tuple orig, Tuple reply, int mark, int markMask,
    long labelsLo, long labelsHi, long labelsMaskLo, long labelsMaskHi)
{
    /**
     * A partial tuple: addresses as (hi, lo) pairs (IPv4 in the low 32 bits of lo), {@code hasSrc}/{@code hasDst}
     * telling which are set; ports 0 = any; ICMP id/type/code.
     */
    public record Tuple(boolean hasSrc, long srcHi, long srcLo, boolean hasDst, long dstHi, long dstLo,
        int srcPort, int dstPort, int icmpId, int icmpType, int icmpCode)
    {
        public boolean isZero(final int proto)
        {
            final boolean icmp = proto == Protocols.IPPROTO_ICMP || proto == Protocols.IPPROTO_ICMPV6;
            return !hasSrc && !hasDst && (icmp || (srcPort == 0 && dstPort == 0));
        }

        /** Both addresses and (for port protocols) both ports set: a full key. */
        public boolean isFiveTuple(final int proto)
        {
            final boolean icmp = proto == Protocols.IPPROTO_ICMP || proto == Protocols.IPPROTO_ICMPV6;
            return hasSrc && hasDst && (icmp || (srcPort != 0 && dstPort != 0));
        }
    }

    /** True if nothing is set (flush everything). */
    public boolean isZero()
    {
        return proto == 0 && family == 0 && (orig == null || orig.isZero(proto)) && (reply == null || reply.isZero(proto))
            && markMask == 0 && labelsMaskLo == 0 && labelsMaskHi == 0;
    }

    /** Open vSwitch flushes such a match by direct lookup of the original tuple. */
    public boolean isFiveTuple()
    {
        return orig != null && orig.isFiveTuple(proto) && (reply == null || reply.isZero(proto))
            && markMask == 0 && labelsMaskLo == 0 && labelsMaskHi == 0;
    }

    public boolean matches(final ConnEntry e)
    {
        if (family != 0 && (family == 6) != e.isIpv6())
        {
            return false;
        }
        if (proto != 0 && proto != e.nwProto())
        {
            return false;
        }
        if (orig != null && !tupleMatches(orig, e, false))
        {
            return false;
        }
        if (reply != null && !tupleMatches(reply, e, true))
        {
            return false;
        }
        if ((mark & markMask) != (e.mark() & markMask))
        {
            return false;
        }
        return (labelsLo & labelsMaskLo) == (e.labelLo() & labelsMaskLo)
            && (labelsHi & labelsMaskHi) == (e.labelHi() & labelsMaskHi);
    }

    private boolean tupleMatches(final Tuple t, final ConnEntry e, final boolean replyDir)
    {
        final boolean v6 = e.isIpv6();
        if (t.hasSrc)
        {
            if (v6 ? t.srcHi != (replyDir ? e.replyV6(0) : e.origV6(0)) || t.srcLo != (replyDir ? e.replyV6(1) : e.origV6(1))
                : (int)t.srcLo != (replyDir ? e.replySrcV4() : e.origSrcV4()))
            {
                return false;
            }
        }
        if (t.hasDst)
        {
            if (v6 ? t.dstHi != (replyDir ? e.replyV6(2) : e.origV6(2)) || t.dstLo != (replyDir ? e.replyV6(3) : e.origV6(3))
                : (int)t.dstLo != (replyDir ? e.replyDstV4() : e.origDstV4()))
            {
                return false;
            }
        }
        final int srcL4 = replyDir ? e.replySrcL4() : e.origSrcL4();
        final int dstL4 = replyDir ? e.replyDstL4() : e.origDstL4();
        if (proto == Protocols.IPPROTO_ICMP || proto == Protocols.IPPROTO_ICMPV6)
        {
            return t.icmpId == srcL4 >>> 16 && t.icmpType == ((srcL4 >>> 8) & 0xFF) && t.icmpCode == (srcL4 & 0xFF);
        }
        return (t.srcPort == 0 || t.srcPort == srcL4 >>> 16) && (t.dstPort == 0 || t.dstPort == dstL4 >>> 16);
    }
}
