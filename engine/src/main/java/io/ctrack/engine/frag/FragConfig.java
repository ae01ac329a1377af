package io.ctrack.engine.frag;

/**
 * Limits of a {@link FragmentReassembler}.
 *
 * @param maxFragments     fragments held at once (Open vSwitch's {@code nfrag_max}, default 1000); beyond it,
 *                         fragments are not held but tracked as they are (and are then almost always invalid).
 * @param slotBytes        bytes reserved per held fragment; a larger fragment is not held (counted).
 * @param minV4FragSize    smallest IPv4 fragment (IP header and data, last fragment exempt) accepted, default 1200.
 * @param minV6FragSize    smallest IPv6 fragment accepted (last fragment exempt), default 1280.
 * @param maxFragsPerList  fragments one datagram may have.
 * @param listTimeoutMs    time after the first fragment at which an incomplete datagram is dropped, default 15 s.
 */
public record FragConfig(
    int maxFragments, int slotBytes, int minV4FragSize, int minV6FragSize, int maxFragsPerList, long listTimeoutMs)
{
    public static final FragConfig DEFAULT = new FragConfig(1000, 2048, 1200, 1280, 64, 15_000);

    public FragConfig
    {
        if (maxFragments < 1 || slotBytes < 64 || maxFragsPerList < 2)
        {
            throw new IllegalArgumentException("fragment limits too small: " + maxFragments + " fragments of "
                + slotBytes + " bytes, " + maxFragsPerList + " per datagram");
        }
        if (minV4FragSize < 400 || minV6FragSize < 400)
        {
            throw new IllegalArgumentException("minimum fragment sizes are clamped at 400 bytes or more");
        }
    }
}
