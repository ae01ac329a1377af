package io.ctrack.engine.key;

/**
 * An immutable connection key, for the control path (flush by tuple, NAT reservations): family, protocol, zone,
 * addresses and the two L4 endpoint words in {@link CtRequest}'s encoding.
 */
public record ConnKey(boolean ipv6, int proto, int zone, long srcHi, long srcLo, int srcL4, long dstHi, long dstLo,
    int dstL4)
{
    /** An IPv4 TCP/UDP/SCTP key. */
    public static ConnKey ipv4(final int proto, final int zone, final int src, final int srcPort, final int dst,
        final int dstPort)
    {
        return new ConnKey(false, proto, zone, 0, src & 0xFFFF_FFFFL, srcPort << 16, 0, dst & 0xFFFF_FFFFL,
            dstPort << 16);
    }

    /** Fills {@code request} with this key and its hash; returns it. */
    public CtRequest toRequest(final CtRequest request)
    {
        request.clear().flags(ipv6 ? CtRequest.FLAG_IPV6 : 0).nwProto(proto).zone(zone)
            .src(srcHi, srcLo).dst(dstHi, dstLo).srcL4(srcL4).dstL4(dstL4);
        return request.hash(SymmetricHash.of(request));
    }

    /** The key of {@code request}. */
    public static ConnKey of(final CtRequest r)
    {
        return new ConnKey(r.isIpv6(), r.nwProto(), r.zone(), r.srcHi(), r.srcLo(), r.srcL4(), r.dstHi(), r.dstLo(),
            r.dstL4());
    }

    /** The same connection seen from the other end. */
    public ConnKey reversed()
    {
        return new ConnKey(ipv6, proto, zone, dstHi, dstLo, dstL4, srcHi, srcLo, srcL4);
    }
}
