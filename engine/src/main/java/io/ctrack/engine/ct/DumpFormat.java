package io.ctrack.engine.ct;

import io.ctrack.engine.packet.Protocols;
import io.ctrack.engine.table.ConnEntry;
import io.ctrack.engine.tcp.TcpState;
import io.ctrack.engine.tcp.TcpTracker;

/**
 * One connection as Open vSwitch's {@code ovs-dpctl dump-conntrack} prints it ({@code ct_dpif_format_entry}), e.g.
 * {@code tcp,orig=(src=10.1.1.1,dst=10.1.1.2,sport=1,dport=2),reply=(src=10.1.1.2,dst=10.1.1.1,sport=2,dport=1),zone=1,protoinfo=(state=ESTABLISHED)}.
 * IPv6 addresses are printed as glibc's {@code inet_ntop} prints them. With {@link #MORE} ({@code -m}) the line
 * gains {@code id=} (the connection id verdicts carry; Open vSwitch's userspace datapath prints 0 there),
 * {@code status=0} (as that datapath prints it) and the TCP peers' states, window scales and flags; with
 * {@link #STATISTICS} ({@code -s}) the seconds left before the connection expires ({@code timeout=}); there are no
 * packet or byte counters, as in that datapath.
 */
public final class DumpFormat
{
    /** {@code dump-conntrack -m}: more detail. */
    public static final int MORE = 1;
    /** {@code dump-conntrack -s}: statistics (the timeout left). */
    public static final int STATISTICS = 2;

    private DumpFormat()
    {
    }

    public static String format(final ConnEntry e)
    {
        return format(e, 0, 0);
    }

    /** The line with {@code options} ({@link #MORE}, {@link #STATISTICS}); {@code nowMs} for the timeout left. */
    public static String format(final ConnEntry e, final int options, final long nowMs)
    {
        final StringBuilder sb = new StringBuilder(160);
        append(e, sb, options, nowMs);
        return sb.toString();
    }

    public static void append(final ConnEntry e, final StringBuilder sb)
    {
        append(e, sb, 0, 0);
    }

    public static void append(final ConnEntry e, final StringBuilder sb, final int options, final long nowMs)
    {
        final boolean more = (options & MORE) != 0;
        final int proto = e.nwProto();
        sb.append(Protocols.ipProtoName(proto)).append(",orig=(");
        if (e.isIpv6())
        {
            appendTuple(sb, true, e.origV6(0), e.origV6(1), e.origV6(2), e.origV6(3), e.origSrcL4(), e.origDstL4(), proto);
            sb.append("),reply=(");
            appendTuple(sb, true, e.replyV6(0), e.replyV6(1), e.replyV6(2), e.replyV6(3), e.replySrcL4(),
                e.replyDstL4(), proto);
        }
        else
        {
            appendTuple(sb, false, 0, e.origSrcV4(), 0, e.origDstV4(), e.origSrcL4(), e.origDstL4(), proto);
            sb.append("),reply=(");
            appendTuple(sb, false, 0, e.replySrcV4(), 0, e.replyDstV4(), e.replySrcL4(), e.replyDstL4(), proto);
        }
        sb.append(')');
        if (more)
        {
            sb.append(",id=").append(Long.toUnsignedString(e.id()));
        }
        if (e.zone() != 0)
        {
            sb.append(",zone=").append(e.zone());
        }
        if (more)
        {
            sb.append(",status=0");
        }
        if ((options & STATISTICS) != 0)
        {
            // Whole seconds left, rounded down, as Open vSwitch's conn_to_ct_dpif_entry computes them.
            sb.append(",timeout=").append(Math.max(0, e.expirationMs() - nowMs) / 1000);
        }
        if (e.mark() != 0)
        {
            sb.append(",mark=").append(Integer.toUnsignedString(e.mark()));
        }
        if (e.labelHi() != 0 || e.labelLo() != 0)
        {
            sb.append(",labels=").append(labelHex(e.labelHi(), e.labelLo()));
        }
        if (proto == Protocols.IPPROTO_TCP)
        {
            if (more)
            {
                appendTcpVerbose(e, sb);
            }
            else
            {
                sb.append(",protoinfo=(state=").append(TcpState.coalesced(e.tcpState(0), e.tcpState(1)).name())
                    .append(')');
            }
        }
    }

    /** Both peers' states, their window scales (when either is not 0) and flags, as {@code -m} prints them. */
    private static void appendTcpVerbose(final ConnEntry e, final StringBuilder sb)
    {
        sb.append(",protoinfo=(state_orig=").append(TcpState.byOrdinal(e.tcpState(0)).name())
            .append(",state_reply=").append(TcpState.byOrdinal(e.tcpState(1)).name());
        final int orig = e.wscale(0);
        final int reply = e.wscale(1);
        if ((orig & TcpTracker.WSCALE_MASK) != 0 || (reply & TcpTracker.WSCALE_MASK) != 0)
        {
            sb.append(",wscale_orig=").append(orig & TcpTracker.WSCALE_MASK)
                .append(",wscale_reply=").append(reply & TcpTracker.WSCALE_MASK);
        }
        sb.append(",flags_orig=");
        appendTcpFlags(orig, sb);
        sb.append(",flags_reply=");
        appendTcpFlags(reply, sb);
        sb.append(')');
    }

    /**
     * A peer's conntrack TCP flags from its window scale bits: WINDOW_SCALE if it sent the option, BE_LIBERAL if its
     * scale is unknown (picked up mid-stream), joined by {@code |} in Open vSwitch's bit order; {@code 0} if none.
     */
    private static void appendTcpFlags(final int wscale, final StringBuilder sb)
    {
        final boolean scale = (wscale & TcpTracker.WSCALE_FLAG) != 0;
        final boolean liberal = (wscale & TcpTracker.WSCALE_UNKNOWN) != 0;
        if (!scale && !liberal)
        {
            sb.append('0');
            return;
        }
        if (scale)
        {
            sb.append("WINDOW_SCALE");
        }
        if (liberal)
        {
            sb.append(scale ? "|BE_LIBERAL" : "BE_LIBERAL");
        }
    }

    private static void appendTuple(final StringBuilder sb, final boolean v6, final long srcHi, final long srcLo,
        final long dstHi, final long dstLo, final int srcL4, final int dstL4, final int proto)
    {
        sb.append("src=");
        appendAddress(sb, v6, srcHi, srcLo);
        sb.append(",dst=");
        appendAddress(sb, v6, dstHi, dstLo);
        if (proto == Protocols.IPPROTO_ICMP || proto == Protocols.IPPROTO_ICMPV6)
        {
            sb.append(",id=").append(srcL4 >>> 16).append(",type=").append((srcL4 >>> 8) & 0xFF)
                .append(",code=").append(srcL4 & 0xFF);
        }
        else
        {
            sb.append(",sport=").append(srcL4 >>> 16).append(",dport=").append(dstL4 >>> 16);
        }
    }

    /** Appends an IPv4 address (in the low 32 bits of {@code lo}) or an IPv6 address. */
    public static void appendAddress(final StringBuilder sb, final boolean v6, final long hi, final long lo)
    {
        if (!v6)
        {
            sb.append((lo >>> 24) & 0xFF).append('.').append((lo >>> 16) & 0xFF).append('.')
                .append((lo >>> 8) & 0xFF).append('.').append(lo & 0xFF);
            return;
        }
        appendIpv6(sb, hi, lo);
    }

    /** RFC 5952 text as glibc's {@code inet_ntop} writes it, including {@code ::ffff:a.b.c.d} forms. */
    public static void appendIpv6(final StringBuilder sb, final long hi, final long lo)
    {
        final int[] words = new int[8];
        for (int i = 0; i < 4; i++)
        {
            words[i] = (int)(hi >>> (48 - 16 * i)) & 0xFFFF;
            words[4 + i] = (int)(lo >>> (48 - 16 * i)) & 0xFFFF;
        }
        int bestBase = -1;
        int bestLen = 0;
        int curBase = -1;
        int curLen = 0;
        for (int i = 0; i < 8; i++)
        {
            if (words[i] == 0)
            {
                if (curBase == -1)
                {
                    curBase = i;
                    curLen = 1;
                }
                else
                {
                    curLen++;
                }
            }
            else if (curBase != -1)
            {
                if (bestBase == -1 || curLen > bestLen)
                {
                    bestBase = curBase;
                    bestLen = curLen;
                }
                curBase = -1;
            }
        }
        if (curBase != -1 && (bestBase == -1 || curLen > bestLen))
        {
            bestBase = curBase;
            bestLen = curLen;
        }
        if (bestBase != -1 && bestLen < 2)
        {
            bestBase = -1;
        }
        for (int i = 0; i < 8; i++)
        {
            if (bestBase != -1 && i >= bestBase && i < bestBase + bestLen)
            {
                if (i == bestBase)
                {
                    sb.append(':');
                }
                continue;
            }
            if (i != 0)
            {
                sb.append(':');
            }
            if (i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xFFFF)))
            {
                sb.append(words[6] >>> 8).append('.').append(words[6] & 0xFF).append('.')
                    .append(words[7] >>> 8).append('.').append(words[7] & 0xFF);
                return;
            }
            sb.append(Integer.toHexString(words[i]));
        }
        if (bestBase != -1 && bestBase + bestLen == 8)
        {
            sb.append(':');
        }
    }

    /** A 128-bit label as Open vSwitch prints it: hex without leading zeros, {@code 0x} prefix. */
    public static String labelHex(final long hi, final long lo)
    {
        if (hi == 0)
        {
            return "0x" + Long.toHexString(lo);
        }
        final String low = Long.toHexString(lo);
        return "0x" + Long.toHexString(hi) + "0".repeat(16 - low.length()) + low;
    }
}
