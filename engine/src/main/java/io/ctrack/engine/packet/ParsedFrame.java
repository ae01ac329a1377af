package io.ctrack.engine.packet;

import org.agrona.DirectBuffer;

/**
 * What {@link FrameParser} found in one frame: its ethertype and the offsets of its layers, as Open vSwitch's
 * {@code miniflow_extract} sets {@code l3_ofs}, {@code l4_ofs} and the L2 padding. Offsets are absolute
 * positions in {@link #buffer()}; {@link #NONE} means the layer is absent (frame too short, not IP, or a
 * header failed its sanity check). Reused for every frame: not thread-safe.
 */
public final class ParsedFrame
{
    public static final int NONE = -1;
    /** {@link #nwFrag()} bit: the packet is a fragment. */
    public static final int FRAG_ANY = 1;
    /** {@link #nwFrag()} bit: the packet is a fragment other than the first. */
    public static final int FRAG_LATER = 2;

    DirectBuffer buffer;
    int frameOffset;
    int frameLength;
    int dlType;
    int l3Offset = NONE;
    int l4Offset = NONE;
    int l2PadSize;
    int nwProto;
    int nwFrag;

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int frameOffset()
    {
        return frameOffset;
    }

    public int frameLength()
    {
        return frameLength;
    }

    /** Ethertype after VLAN tags and LLC/SNAP; 0 when the frame has no complete Ethernet header. */
    public int dlType()
    {
        return dlType;
    }

    public int l3Offset()
    {
        return l3Offset;
    }

    public int l4Offset()
    {
        return l4Offset;
    }

    /** Bytes after the end of the IP datagram (Ethernet padding), never part of L3 or L4. */
    public int l2PadSize()
    {
        return l2PadSize;
    }

    /** IP protocol from the header chain (IPv6: after extension headers; 44 for a later fragment). */
    public int nwProto()
    {
        return nwProto;
    }

    public int nwFrag()
    {
        return nwFrag;
    }

    /** Offset just past the frame's last byte. */
    public int frameEnd()
    {
        return frameOffset + frameLength;
    }

    /** Bytes from the L3 header to the end of the datagram (0 if there is no L3). */
    public int l3Size()
    {
        return l3Offset == NONE ? 0 : frameEnd() - l3Offset - l2PadSize;
    }

    /** Bytes from the L4 header to the end of the datagram (0 if there is no L4). */
    public int l4Size()
    {
        return l4Offset == NONE ? 0 : frameEnd() - l4Offset - l2PadSize;
    }

    /**
     * Describes a frame whose layers the caller already knows (a reassembled datagram): no padding, not a
     * fragment.
     */
    public ParsedFrame assign(final DirectBuffer buffer, final int frameOffset, final int frameLength,
        final int dlType, final int l3Offset, final int l4Offset, final int nwProto)
    {
        reset(buffer, frameOffset, frameLength);
        this.dlType = dlType;
        this.l3Offset = l3Offset;
        this.l4Offset = l4Offset;
        this.nwProto = nwProto;
        return this;
    }

    void reset(final DirectBuffer buffer, final int offset, final int length)
    {
        this.buffer = buffer;
        this.frameOffset = offset;
        this.frameLength = length;
        this.dlType = 0;
        this.l3Offset = NONE;
        this.l4Offset = NONE;
        this.l2PadSize = 0;
        this.nwProto = 0;
        this.nwFrag = 0;
    }
}
