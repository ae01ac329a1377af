package io.ctrack.engine.nat;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.key.SymmetricHash;
import io.ctrack.engine.packet.Protocols;

/**
 * Open vSwitch's {@code nat_get_unique_tuple}, as an iterator over candidate reply tuples, so that the caller can
 * check each candidate wherever it lives (in its own table, or by asking the bucket the candidate hashes to) and
 * ask for the next one if it is taken.
 * <p>
 * The candidate order is Open vSwitch's: the address is chosen in the range by a hash of the connection (of the
 * source address alone with {@code persistent}) and kept; then, for TCP, UDP, SCTP and ICMP, ports (ICMP ids) are
 * tried from a starting point (the packet's own source port, or a hash- or {@code random}-chosen point of the
 * given range), at most 128 in a row, then windows of 64, 32, 16 and 8 from random points, so at most 248 tries; a
 * destination port range is searched first and the source port after it. A source port search without a given
 * range stays in the packet's ephemeral class (1-511, 600-1023 or 1024-65535). Other protocols get one candidate.
 * The hashes are ours (Open vSwitch's depend on a per-process random basis anyway), so the same address class is
 * chosen for the same inputs, not the same address as a given Open vSwitch process.
 * <p>
 * Not thread-safe; one search at a time per instance.
 */
public final class UniqueTupleSearch
{
    /** Tries in the first window, as Open vSwitch's {@code max_attempts}. */
    static final int FIRST_WINDOW = 128;
    /** A window is halved again only while it is at least this large (so the last window has 8 tries). */
    static final int LAST_WINDOW = 16;
    private static final int MIN_EPHEMERAL = 1024;
    private static final int MAX_EPHEMERAL = 65535;

    private static final int PHASE_DONE = 0;
    private static final int PHASE_SINGLE = 1;
    private static final int PHASE_DPORT = 2;
    private static final int PHASE_SPORT = 3;

    private final long hashBasis;
    private long randomState;

    private NatSpec spec;
    private boolean ipv6;
    private int proto;
    private int zone;
    private long revSrcHi;
    private long revSrcLo;
    private long revDstHi;
    private long revDstLo;
    private int revSrcL4;
    private int revDstL4;
    private int phase;
    private int tries;

    private final PortScan dports = new PortScan();
    private final PortScan sports = new PortScan();
    private int currSport;
    private int minSport;
    private int maxSport;

    /**
     * @param hashBasis the node's basis for connection hashes ({@code persistent} ignores it).
     * @param seed      seed of the generator behind {@code random} and the window restarts.
     */
    public UniqueTupleSearch(final long hashBasis, final long seed)
    {
        this.hashBasis = hashBasis == 0 ? 1 : hashBasis;
        this.randomState = seed == 0 ? 0x2545_F491_4F6C_DD1DL : seed;
    }

    /**
     * Starts a search for the connection whose original-direction key is {@code fwd}, translated by {@code spec}
     * (which must be a source or destination translation, not {@link NatSpec#PLAIN}).
     */
    public void start(final CtRequest fwd, final NatSpec spec)
    {
        if (spec.isPlain())
        {
            throw new IllegalArgumentException("plain 'nat' has no range to search");
        }
        this.spec = spec;
        this.ipv6 = fwd.isIpv6();
        this.proto = fwd.nwProto();
        this.zone = fwd.zone();
        this.tries = 0;
        // The reply key starts as the reversed original key.
        revSrcHi = fwd.dstHi();
        revSrcLo = fwd.dstLo();
        revDstHi = fwd.srcHi();
        revDstLo = fwd.srcLo();
        revSrcL4 = fwd.dstL4();
        revDstL4 = fwd.srcL4();

        final boolean persistent = spec.persistent();
        final int hash = rangeHash(fwd, persistent ? 0 : hashBasis);
        final int portOffset = spec.random() ? nextRandom() : persistent ? rangeHash(fwd, hashBasis) : hash;

        // The address: the packet's own if no range was given, else chosen in the range by the hash.
        long addrHi;
        long addrLo;
        if (!spec.hasAddress())
        {
            addrHi = spec.isSource() ? fwd.srcHi() : fwd.dstHi();
            addrLo = spec.isSource() ? fwd.srcLo() : fwd.dstLo();
        }
        else
        {
            final long offset = Integer.toUnsignedLong(hash) % addressRange(spec);
            addrHi = spec.minHi();
            addrLo = spec.minLo() + offset;
            if (Long.compareUnsigned(addrLo, spec.minLo()) < 0)
            {
                addrHi++;
            }
        }
        if (spec.isSource())
        {
            revDstHi = addrHi;
            revDstLo = addrLo;
        }
        else
        {
            revSrcHi = addrHi;
            revSrcLo = addrLo;
        }

        final int fwdSport = fwd.srcL4() >>> 16;
        final int fwdDport = fwd.dstL4() >>> 16;
        // Source port range (set_sport_range).
        if ((spec.action() & (NatSpec.ACTION_SRC | NatSpec.ACTION_SRC_PORT)) == NatSpec.ACTION_SRC || spec.isDestination())
        {
            currSport = fwdSport;
            if (currSport < 512)
            {
                minSport = 1;
                maxSport = 511;
            }
            else if (currSport < 1024)
            {
                minSport = 600;
                maxSport = 1023;
            }
            else
            {
                minSport = MIN_EPHEMERAL;
                maxSport = MAX_EPHEMERAL;
            }
        }
        else
        {
            minSport = spec.minPort();
            maxSport = spec.maxPort();
            currSport = minSport + (int)(Integer.toUnsignedLong(portOffset) % (maxSport - minSport + 1));
        }
        // Destination port (set_dport_range).
        final int currDport;
        if ((spec.action() & NatSpec.ACTION_DST_PORT) != 0)
        {
            currDport = spec.minPort() + (int)(Integer.toUnsignedLong(portOffset) % (spec.maxPort() - spec.minPort() + 1));
        }
        else
        {
            currDport = fwdDport;
        }

        if (!portTranslated(proto, ipv6))
        {
            phase = PHASE_SINGLE;
            return;
        }
        setRevSrcPort(currDport);
        setRevDstPort(currSport, false);
        if ((spec.action() & NatSpec.ACTION_DST_PORT) != 0)
        {
            dports.start(currDport, spec.minPort(), spec.maxPort());
            phase = PHASE_DPORT;
        }
        else
        {
            sports.start(currSport, minSport, maxSport);
            phase = PHASE_SPORT;
        }
    }

    /**
     * Writes the next candidate reply key into {@code out} (family, protocol, zone, addresses, L4 words and hash;
     * the TCP fields are cleared). Returns false when the search is exhausted.
     */
    public boolean next(final CtRequest out)
    {
        switch (phase)
        {
            case PHASE_SINGLE:
                phase = PHASE_DONE;
                return emit(out);
            case PHASE_DPORT:
                if (dports.next(this))
                {
                    setRevSrcPort(dports.port);
                    return emit(out);
                }
                // Keep the destination port the packet asked for and look for a source port instead.
                setRevSrcPort(dports.orig);
                sports.start(currSport, minSport, maxSport);
                phase = PHASE_SPORT;
                return next(out);
            case PHASE_SPORT:
                if (sports.next(this))
                {
                    setRevDstPort(sports.port, proto == Protocols.IPPROTO_ICMP);
                    return emit(out);
                }
                phase = PHASE_DONE;
                return false;
            default:
                return false;
        }
    }

    /** Candidates produced since {@link #start}. */
    public int tries()
    {
        return tries;
    }

    /** The spec of the search in progress. */
    public NatSpec spec()
    {
        return spec;
    }

    private boolean emit(final CtRequest out)
    {
        tries++;
        out.clear().flags(ipv6 ? CtRequest.FLAG_IPV6 : 0).nwProto(proto).zone(zone)
            .src(revSrcHi, revSrcLo).dst(revDstHi, revDstLo).srcL4(revSrcL4).dstL4(revDstL4);
        out.hash(SymmetricHash.of(out));
        return true;
    }

    /** The reply key's source port (the translated destination port) or ICMP id. */
    private void setRevSrcPort(final int port)
    {
        revSrcL4 = (port << 16) | (revSrcL4 & 0xFFFF);
    }

    /** The reply key's destination port (the translated source port); for ICMP both ids move together. */
    private void setRevDstPort(final int port, final boolean icmpPeer)
    {
        revDstL4 = (port << 16) | (revDstL4 & 0xFFFF);
        if (icmpPeer)
        {
            revSrcL4 = (port << 16) | (revSrcL4 & 0xFFFF);
        }
    }

    /** Protocols whose ports (ICMP: id) Open vSwitch translates ({@code pat_proto}); ICMPv6 is not among them. */
    static boolean portTranslated(final int proto, final boolean ipv6)
    {
        return proto == Protocols.IPPROTO_TCP || proto == Protocols.IPPROTO_UDP || proto == Protocols.IPPROTO_SCTP
            || proto == Protocols.IPPROTO_ICMP;
    }

    /**
     * Number of addresses in the range, capped at 2^32 as Open vSwitch's hash covers only 32 bits (a larger IPv6
     * range uses its first 2^32 addresses).
     */
    static long addressRange(final NatSpec spec)
    {
        if (spec.maxHi() != spec.minHi())
        {
            return 1L << 32;
        }
        final long delta = spec.maxLo() - spec.minLo();
        return Long.compareUnsigned(delta, (1L << 32) - 1) >= 0 ? 1L << 32 : delta + 1;
    }

    /** Open vSwitch's {@code nat_range_hash}: with basis 0 only the source address counts. */
    private int rangeHash(final CtRequest fwd, final long basis)
    {
        long h = basis == 0 ? 0x51ED_2701_F3A5_C96BL : basis;
        h = mix(h, fwd.srcHi());
        h = mix(h, fwd.srcLo());
        if (basis != 0)
        {
            h = mix(h, fwd.srcL4());
            h = mix(h, fwd.dstHi());
            h = mix(h, fwd.dstLo());
            h = mix(h, fwd.dstL4());
        }
        h = mix(h, spec.minHi());
        h = mix(h, spec.minLo());
        h = mix(h, spec.maxHi());
        h = mix(h, spec.maxLo());
        h = mix(h, ((long)spec.maxPort() << 16) | spec.minPort());
        h = mix(h, ((long)(ipv6 ? 1 : 0) << 40) | ((long)fwd.nwProto() << 16) | fwd.zone());
        return (int)(h ^ (h >>> 32));
    }

    private static long mix(final long h, final long value)
    {
        long k = (h ^ value) * 0xFF51_AFD7_ED55_8CCDL;
        k ^= k >>> 33;
        k *= 0xC4CE_B9FE_1A85_EC53L;
        return k ^ (k >>> 33);
    }

    int nextRandom()
    {
        // xorshift64*
        long x = randomState;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        randomState = x;
        return (int)((x * 0x2545_F491_4F6C_DD1DL) >>> 32);
    }

    /**
     * Open vSwitch's {@code nat_get_unique_l4} loop as an iterator: from {@code curr}, the ports of the range in
     * order (wrapping), at most 128 (or the range size); then, while the window is at least 16 and smaller than the
     * range, half as many from a random point (128 + 64 + 32 + 16 + 8 at most).
     */
    static final class PortScan
    {
        int port;
        int orig;
        private int min;
        private int max;
        private int range;
        private int attempts;
        private int cur;
        private int tested;
        private int limit;

        void start(final int curr, final int min, final int max)
        {
            this.min = min;
            this.max = max;
            this.range = max - min + 1;
            this.attempts = Math.min(range, FIRST_WINDOW);
            this.orig = curr;
            round(curr);
        }

        private void round(final int from)
        {
            cur = from;
            tested = 0;
            // N_PORT_ATTEMPTS: an out-of-range first port is tried too, then every port of the range.
            final int inRound = (from < min || from > max) ? range + 1 : range;
            limit = Math.min(inRound, attempts);
        }

        boolean next(final UniqueTupleSearch search)
        {
            while (true)
            {
                if (tested < limit)
                {
                    port = cur;
                    tested++;
                    cur = (cur < min || cur > max || cur == max) ? min : cur + 1;
                    return true;
                }
                if (attempts < range && attempts >= LAST_WINDOW)
                {
                    attempts /= 2;
                    round(min + (int)(Integer.toUnsignedLong(search.nextRandom()) % range));
                    continue;
                }
                return false;
            }
        }
    }
}
