package io.ctrack.engine.flow;

import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.packet.Protocols;
import io.ctrack.engine.packet.RecordWords;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * What a flow table matches on, for one packet: its input port, the fields of its outer headers, and the
 * {@code ct_*} fields of its last {@code ct} action. Mutable and reused; also travels as a {@link #LENGTH}-byte
 * record next to a request when the bucket runs the post-ct table (single-pass):
 * <pre>
 *  0 u16 inPort   2 u16 dlType   4 u8 nwProto   5 u8 0   6 u16 tpSrc   8 u16 tpDst   10 u16 0
 * 12 u32 (the sender's: a pipeline's generation)
 * 16 i64 srcHi   24 i64 srcLo   32 i64 dstHi   40 i64 dstLo
 * </pre>
 * {@code tpSrc}/{@code tpDst} are the ports of TCP, UDP and SCTP, and the type and code of ICMP and ICMPv6, as
 * Open vSwitch's flow fields are.
 */
public final class PacketFields
{
    public static final int LENGTH = 48;
    /** Bytes 12-15 of a record are free for the sender (a pipeline puts its generation there). */
    public static final int GENERATION_OFFSET = 12;
    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    int inPort;
    int dlType;
    int nwProto;
    int tpSrc;
    int tpDst;
    long srcHi;
    long srcLo;
    long dstHi;
    long dstLo;

    int ctState;
    int ctZone;
    int ctMark;
    long ctLabelLo;
    long ctLabelHi;

    /** Reads the outer headers of a parsed frame arriving on {@code inPort}; ct fields are cleared. */
    public PacketFields extract(final ParsedFrame frame, final int inPort)
    {
        this.inPort = inPort;
        dlType = frame.dlType();
        nwProto = 0;
        tpSrc = 0;
        tpDst = 0;
        srcHi = 0;
        srcLo = 0;
        dstHi = 0;
        dstLo = 0;
        clearCt();
        final DirectBuffer b = frame.buffer();
        final int l3 = frame.l3Offset();
        if (l3 == ParsedFrame.NONE)
        {
            return this;
        }
        if (dlType == Protocols.ETH_TYPE_IPV4 && frame.l3Size() >= 20)
        {
            srcLo = b.getInt(l3 + 12, BE) & 0xFFFF_FFFFL;
            dstLo = b.getInt(l3 + 16, BE) & 0xFFFF_FFFFL;
            nwProto = frame.nwProto();
        }
        else if (dlType == Protocols.ETH_TYPE_IPV6 && frame.l3Size() >= 40)
        {
            srcHi = b.getLong(l3 + 8, BE);
            srcLo = b.getLong(l3 + 16, BE);
            dstHi = b.getLong(l3 + 24, BE);
            dstLo = b.getLong(l3 + 32, BE);
            nwProto = frame.nwProto();
        }
        else
        {
            return this;
        }
        final int l4 = frame.l4Offset();
        if (l4 != ParsedFrame.NONE && (frame.nwFrag() & ParsedFrame.FRAG_LATER) == 0)
        {
            final int size = frame.l4Size();
            if ((nwProto == Protocols.IPPROTO_TCP || nwProto == Protocols.IPPROTO_UDP
                || nwProto == Protocols.IPPROTO_SCTP) && size >= 4)
            {
                tpSrc = b.getShort(l4, BE) & 0xFFFF;
                tpDst = b.getShort(l4 + 2, BE) & 0xFFFF;
            }
            else if ((nwProto == Protocols.IPPROTO_ICMP || nwProto == Protocols.IPPROTO_ICMPV6) && size >= 2)
            {
                tpSrc = b.getByte(l4) & 0xFF;
                tpDst = b.getByte(l4 + 1) & 0xFF;
            }
        }
        return this;
    }

    public PacketFields clearCt()
    {
        ctState = 0;
        ctZone = 0;
        ctMark = 0;
        ctLabelLo = 0;
        ctLabelHi = 0;
        return this;
    }

    /** Takes the ct fields a {@code ct} action in {@code zone} left: its verdict's state, mark and label. */
    public PacketFields ct(final Verdict verdict, final int zone)
    {
        ctState = verdict.ctState();
        ctZone = zone;
        ctMark = verdict.mark();
        ctLabelLo = verdict.labelLo();
        ctLabelHi = verdict.labelHi();
        return this;
    }

    /**
     * Applies a verdict's NAT rewrite to the fields (the packet, rewritten, is what the next table sees), as
     * {@code NatRewriter} applies it to the packet.
     */
    public PacketFields applyNat(final Verdict verdict)
    {
        if (!verdict.hasNat())
        {
            return this;
        }
        final int op = verdict.natOp();
        if ((op & Verdict.NAT_REWRITE_SOURCE) != 0)
        {
            srcHi = verdict.natAddrHi();
            srcLo = verdict.natAddrLo();
        }
        else if ((op & Verdict.NAT_REWRITE_DESTINATION) != 0)
        {
            dstHi = verdict.natAddrHi();
            dstLo = verdict.natAddrLo();
        }
        if ((op & Verdict.NAT_RELATED) == 0)
        {
            if (nwProto == Protocols.IPPROTO_TCP || nwProto == Protocols.IPPROTO_UDP || nwProto == Protocols.IPPROTO_SCTP)
            {
                tpSrc = verdict.natKeyDstPort();
                tpDst = verdict.natKeySrcPort();
            }
        }
        return this;
    }

    /** Writes the record (bytes 12-15, the sender's, are written as 0: write them after). */
    public void writeTo(final MutableDirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, LENGTH);
        RecordWords.put(buffer, offset, (inPort & 0xFFFFL) | (long)(dlType & 0xFFFF) << 16 | (long)(nwProto & 0xFF) << 32
            | (long)(tpSrc & 0xFFFF) << 48);
        RecordWords.put(buffer, offset + 8, tpDst & 0xFFFF);
        RecordWords.put(buffer, offset + 16, srcHi);
        RecordWords.put(buffer, offset + 24, srcLo);
        RecordWords.put(buffer, offset + 32, dstHi);
        RecordWords.put(buffer, offset + 40, dstLo);
    }

    public PacketFields readFrom(final DirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, LENGTH);
        final long w = RecordWords.get(buffer, offset);
        inPort = (int)(w & 0xFFFF);
        dlType = (int)(w >>> 16) & 0xFFFF;
        nwProto = (int)(w >>> 32) & 0xFF;
        tpSrc = (int)(w >>> 48) & 0xFFFF;
        tpDst = (int)RecordWords.get(buffer, offset + 8) & 0xFFFF;
        srcHi = RecordWords.get(buffer, offset + 16);
        srcLo = RecordWords.get(buffer, offset + 24);
        dstHi = RecordWords.get(buffer, offset + 32);
        dstLo = RecordWords.get(buffer, offset + 40);
        clearCt();
        return this;
    }

    /** Copies a whole record (sender's bytes included) word by word. */
    public static void copyRecord(final DirectBuffer from, final int fromOffset, final MutableDirectBuffer to,
        final int toOffset)
    {
        RecordWords.copy(from, fromOffset, to, toOffset, LENGTH);
    }

    public PacketFields copyFrom(final PacketFields o)
    {
        inPort = o.inPort;
        dlType = o.dlType;
        nwProto = o.nwProto;
        tpSrc = o.tpSrc;
        tpDst = o.tpDst;
        srcHi = o.srcHi;
        srcLo = o.srcLo;
        dstHi = o.dstHi;
        dstLo = o.dstLo;
        ctState = o.ctState;
        ctZone = o.ctZone;
        ctMark = o.ctMark;
        ctLabelLo = o.ctLabelLo;
        ctLabelHi = o.ctLabelHi;
        return this;
    }

    public int inPort()
    {
        return inPort;
    }

    public int ctState()
    {
        return ctState;
    }

    public int ctMark()
    {
        return ctMark;
    }
}
