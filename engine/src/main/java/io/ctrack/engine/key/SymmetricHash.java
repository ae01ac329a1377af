package io.ctrack.engine.key;

/**
 * The connection hash: each endpoint (address and L4 word) is mixed on its own and the two are added, so
 * {@code hash(a -> b) == hash(b -> a)} (Open vSwitch's {@code conn_key_hash} does the same with XOR; adding
 * keeps a connection whose two endpoints are equal from hashing to a constant). Protocol, zone and family are
 * then folded in and the result finalised, so both the top bits (bucket choice) and the low bits (table index)
 * are well mixed.
 */
public final class SymmetricHash
{
    private static final long SEED = 0x9E37_79B9_7F4A_7C15L;
    private static final long K1 = 0xC6A4_A793_5BD1_E995L;
    private static final long K2 = 0x9E37_79B9_7F4A_7C15L;
    private static final long K3 = 0xFF51_AFD7_ED55_8CCDL;

    private SymmetricHash()
    {
    }

    /**
     * Hash of an IPv4 key. Addresses are the 32-bit values (network order read as a number). Each endpoint is
     * multiplied by an odd constant and folded (so its low half depends on all of its bits); the sum is salted
     * with protocol and zone and multiplied again, and the high half of that product is the hash, so its top bits
     * (bucket choice) and low bits (table index) both depend on every input bit.
     */
    public static int ipv4(final int srcAddr, final int srcL4, final int dstAddr, final int dstL4,
        final int proto, final int zone)
    {
        final long a = (((long)srcAddr << 32) | (srcL4 & 0xFFFF_FFFFL)) * K1;
        final long b = (((long)dstAddr << 32) | (dstL4 & 0xFFFF_FFFFL)) * K1;
        final long h = ((a ^ (a >>> 32)) + (b ^ (b >>> 32)) ^ ((long)proto << 16 | zone) * K2) * K3;
        return (int)(h >>> 32);
    }

    /** Hash of an IPv6 key. */
    public static int ipv6(final long srcHi, final long srcLo, final int srcL4, final long dstHi, final long dstLo,
        final int dstL4, final int proto, final int zone)
    {
        final long a = mix64(srcHi ^ mix64(srcLo ^ mix64(srcL4 & 0xFFFF_FFFFL)));
        final long b = mix64(dstHi ^ mix64(dstLo ^ mix64(dstL4 & 0xFFFF_FFFFL)));
        return finish(a + b, proto, zone, 1);
    }

    /** Hash of the key in a request, by its family. */
    public static int of(final CtRequest r)
    {
        if (r.isIpv6())
        {
            return ipv6(r.srcHi(), r.srcLo(), r.srcL4(), r.dstHi(), r.dstLo(), r.dstL4(), r.nwProto(), r.zone());
        }
        return ipv4((int)r.srcLo(), r.srcL4(), (int)r.dstLo(), r.dstL4(), r.nwProto(), r.zone());
    }

    private static int finish(final long endpoints, final int proto, final int zone, final int family)
    {
        final long h = mix64(endpoints ^ ((long)proto << 40 | (long)zone << 8 | family) * SEED);
        return (int)(h ^ (h >>> 32));
    }

    /** The 64-bit finaliser of MurmurHash3. */
    static long mix64(final long value)
    {
        long k = value;
        k ^= k >>> 33;
        k *= 0xFF51_AFD7_ED55_8CCDL;
        k ^= k >>> 33;
        k *= 0xC4CE_B9FE_1A85_EC53L;
        k ^= k >>> 33;
        return k;
    }
}
