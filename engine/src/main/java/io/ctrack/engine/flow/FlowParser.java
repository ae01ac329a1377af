package io.ctrack.engine.flow;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.nat.NatSpec;
import io.ctrack.engine.packet.Protocols;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Parses flows in Open vSwitch's flow syntax ({@code ovs-fields(7)}, {@code ovs-actions(7)}), one per line, a
 * documented subset:
 * <pre>
 *   [table=N] [priority=N] MATCH... actions=ACTION[,ACTION]...
 *   MATCH:  in_port=N  ip ipv6 tcp udp sctp icmp tcp6 udp6 icmp6 arp  dl_type=0xNNNN  nw_proto=N
 *           nw_src=A.B.C.D[/LEN|/MASK]  nw_dst=...  ipv6_src=ADDR[/LEN]  ipv6_dst=...  tp_src=N[/MASK]  tp_dst=...
 *           ct_state=(+|-)FLAG...  ct_zone=N  ct_mark=V[/M]  ct_label=V[/M]
 *   ACTION: ct[(commit,force,zone=N,table=N,nat[(...)],exec(set_field:V[/M]->ct_mark|ct_label,...))]
 *           output:N  N  NORMAL  drop
 * </pre>
 * Fields are separated by commas or spaces; {@code #} starts a comment. Prerequisites are Open vSwitch's
 * ({@code nw_src} needs {@code ip} or {@code arp}, {@code ipv6_src} needs {@code ipv6}, {@code tp_src} needs
 * {@code tcp}, {@code udp} or {@code sctp}); mark and label can only be set with {@code commit}; {@code drop} must
 * be the only action. Errors name the line and column.
 */
public final class FlowParser
{
    private final Function<String, NatSpec> natParser;

    /** @param natParser parses the inside of {@code nat(...)} (given with the parentheses); may throw. */
    public FlowParser(final Function<String, NatSpec> natParser)
    {
        this.natParser = natParser;
    }

    public FlowTables parse(final String text, final int generation)
    {
        final List<Flow> flows = new ArrayList<>();
        final String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++)
        {
            String line = lines[i];
            final int hash = line.indexOf('#');
            if (hash >= 0)
            {
                line = line.substring(0, hash);
            }
            if (line.isBlank())
            {
                continue;
            }
            flows.add(parseFlow(line, i + 1, flows.size() + 1));
        }
        return new FlowTables(flows, generation, text);
    }

    private Flow parseFlow(final String line, final int lineNo, final int id)
    {
        final int actionsAt = line.indexOf("actions=");
        if (actionsAt < 0)
        {
            throw new FlowSyntaxException(lineNo, 1, "missing 'actions='");
        }
        final Match m = new Match();
        int table = 0;
        int priority = 32768;
        int i = 0;
        final String head = line.substring(0, actionsAt);
        while (i < head.length())
        {
            while (i < head.length() && (head.charAt(i) == ',' || Character.isWhitespace(head.charAt(i))))
            {
                i++;
            }
            if (i >= head.length())
            {
                break;
            }
            int end = i;
            while (end < head.length() && head.charAt(end) != ',' && !Character.isWhitespace(head.charAt(end)))
            {
                end++;
            }
            final String token = head.substring(i, end);
            final int column = i + 1;
            final int eq = token.indexOf('=');
            final String key = eq < 0 ? token : token.substring(0, eq);
            final String value = eq < 0 ? null : token.substring(eq + 1);
            final int valueColumn = column + (eq < 0 ? 0 : eq + 1);
            switch (key)
            {
                case "table" -> table = number(value, 0, FlowTables.MAX_TABLES - 1, lineNo, valueColumn, "table");
                case "priority" -> priority = number(value, 0, 65535, lineNo, valueColumn, "priority");
                case "in_port" -> m.inPort = number(value, 0, 65535, lineNo, valueColumn, "in_port");
                case "ip" -> protocol(m, Protocols.ETH_TYPE_IPV4, Match.ANY, lineNo, column, key);
                case "ipv6" -> protocol(m, Protocols.ETH_TYPE_IPV6, Match.ANY, lineNo, column, key);
                case "arp" -> protocol(m, Protocols.ETH_TYPE_ARP, Match.ANY, lineNo, column, key);
                case "tcp" -> protocol(m, Protocols.ETH_TYPE_IPV4, Protocols.IPPROTO_TCP, lineNo, column, key);
                case "udp" -> protocol(m, Protocols.ETH_TYPE_IPV4, Protocols.IPPROTO_UDP, lineNo, column, key);
                case "sctp" -> protocol(m, Protocols.ETH_TYPE_IPV4, Protocols.IPPROTO_SCTP, lineNo, column, key);
                case "icmp" -> protocol(m, Protocols.ETH_TYPE_IPV4, Protocols.IPPROTO_ICMP, lineNo, column, key);
                case "tcp6" -> protocol(m, Protocols.ETH_TYPE_IPV6, Protocols.IPPROTO_TCP, lineNo, column, key);
                case "udp6" -> protocol(m, Protocols.ETH_TYPE_IPV6, Protocols.IPPROTO_UDP, lineNo, column, key);
                case "icmp6" -> protocol(m, Protocols.ETH_TYPE_IPV6, Protocols.IPPROTO_ICMPV6, lineNo, column, key);
                case "dl_type" -> protocol(m, number(value, 0, 0xFFFF, lineNo, valueColumn, "dl_type"), Match.ANY, lineNo,
                    column, key);
                case "nw_proto" ->
                {
                    requireValue(value, lineNo, column, key);
                    m.nwProto = number(value, 0, 255, lineNo, valueColumn, "nw_proto");
                }
                case "nw_src", "nw_dst" ->
                {
                    if (m.dlType != Protocols.ETH_TYPE_IPV4 && m.dlType != Protocols.ETH_TYPE_ARP)
                    {
                        throw new FlowSyntaxException(lineNo, column, key + ": prerequisites not met (needs ip or arp)");
                    }
                    final long[] v = ipv4Cidr(value, lineNo, valueColumn);
                    if (key.equals("nw_src"))
                    {
                        m.srcLo = v[0];
                        m.srcMaskLo = v[1];
                    }
                    else
                    {
                        m.dstLo = v[0];
                        m.dstMaskLo = v[1];
                    }
                }
                case "ipv6_src", "ipv6_dst" ->
                {
                    if (m.dlType != Protocols.ETH_TYPE_IPV6)
                    {
                        throw new FlowSyntaxException(lineNo, column, key + ": prerequisites not met (needs ipv6)");
                    }
                    final long[] v = ipv6Cidr(value, lineNo, valueColumn);
                    if (key.equals("ipv6_src"))
                    {
                        m.srcHi = v[0];
                        m.srcLo = v[1];
                        m.srcMaskHi = v[2];
                        m.srcMaskLo = v[3];
                    }
                    else
                    {
                        m.dstHi = v[0];
                        m.dstLo = v[1];
                        m.dstMaskHi = v[2];
                        m.dstMaskLo = v[3];
                    }
                }
                case "tp_src", "tp_dst" ->
                {
                    if (m.nwProto != Protocols.IPPROTO_TCP && m.nwProto != Protocols.IPPROTO_UDP
                        && m.nwProto != Protocols.IPPROTO_SCTP)
                    {
                        throw new FlowSyntaxException(lineNo, column, key + ": prerequisites not met (needs tcp, udp or sctp)");
                    }
                    final long[] v = valueMask(value, 0xFFFF, lineNo, valueColumn, key);
                    if (key.equals("tp_src"))
                    {
                        m.tpSrc = (int)v[0];
                        m.tpSrcMask = (int)v[1];
                    }
                    else
                    {
                        m.tpDst = (int)v[0];
                        m.tpDstMask = (int)v[1];
                    }
                }
                case "ct_state" -> ctState(m, value, lineNo, valueColumn);
                case "ct_zone" -> m.ctZone = number(value, 0, 65535, lineNo, valueColumn, "ct_zone");
                case "ct_mark" ->
                {
                    final long[] v = valueMask(value, 0xFFFF_FFFFL, lineNo, valueColumn, key);
                    m.ctMark = (int)v[0];
                    m.ctMarkMask = (int)v[1];
                }
                case "ct_label" ->
                {
                    final long[] v = label(value, lineNo, valueColumn);
                    m.ctLabelLo = v[0];
                    m.ctLabelHi = v[1];
                    m.ctLabelMaskLo = v[2];
                    m.ctLabelMaskHi = v[3];
                }
                default -> throw new FlowSyntaxException(lineNo, column, "unknown field '" + key + "'");
            }
            i = end;
        }
        final int actionsColumn = actionsAt + "actions=".length() + 1;
        final List<FlowAction> actions = parseActions(line.substring(actionsColumn - 1), lineNo, actionsColumn, table);
        return new Flow(id, table, priority, lineNo, m, actions, line.trim());
    }

    private static void requireValue(final String value, final int line, final int column, final String key)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, key + " needs a value");
        }
    }

    private static void protocol(final Match m, final int dlType, final int nwProto, final int line, final int column,
        final String key)
    {
        if ((m.dlType != Match.ANY && m.dlType != dlType) || (nwProto != Match.ANY && m.nwProto != Match.ANY && m.nwProto != nwProto))
        {
            throw new FlowSyntaxException(line, column, "'" + key + "' conflicts with an earlier protocol match");
        }
        m.dlType = dlType;
        if (nwProto != Match.ANY)
        {
            m.nwProto = nwProto;
        }
    }

    private static int number(final String value, final long min, final long max, final int line, final int column,
        final String what)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, what + " needs a value");
        }
        final long v;
        try
        {
            v = value.startsWith("0x") || value.startsWith("0X") ? Long.parseLong(value.substring(2), 16) : Long.parseLong(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new FlowSyntaxException(line, column, what + ": '" + value + "' is not a number");
        }
        if (v < min || v > max)
        {
            throw new FlowSyntaxException(line, column, what + " must be " + min + "-" + max + ", got " + v);
        }
        return (int)v;
    }

    private static long[] valueMask(final String value, final long max, final int line, final int column, final String what)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, what + " needs a value");
        }
        final int slash = value.indexOf('/');
        final long v = number(slash < 0 ? value : value.substring(0, slash), 0, max, line, column, what) & max;
        final long mask = slash < 0 ? max
            : number(value.substring(slash + 1), 0, max, line, column + slash + 1, what + " mask") & max;
        return new long[] { v & mask, mask };
    }

    private static void ctState(final Match m, final String value, final int line, final int column)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "ct_state needs flags, e.g. +new+trk");
        }
        int i = 0;
        while (i < value.length())
        {
            final char sign = value.charAt(i);
            if (sign != '+' && sign != '-')
            {
                throw new FlowSyntaxException(line, column + i, "ct_state: expected '+' or '-' before a flag");
            }
            int end = i + 1;
            while (end < value.length() && value.charAt(end) != '+' && value.charAt(end) != '-')
            {
                end++;
            }
            final String name = value.substring(i + 1, end);
            final int bit = CtState.bitOf(name);
            if (bit < 0)
            {
                throw new FlowSyntaxException(line, column + i + 1, "ct_state: unknown flag '" + name + "'");
            }
            if (sign == '+')
            {
                m.ctStateSet |= bit;
            }
            else
            {
                m.ctStateClear |= bit;
            }
            i = end;
        }
        if ((m.ctStateSet & m.ctStateClear) != 0)
        {
            throw new FlowSyntaxException(line, column, "ct_state: a flag is both required and excluded");
        }
    }

    private static long[] ipv4Cidr(final String value, final int line, final int column)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "address needed");
        }
        final int slash = value.indexOf('/');
        final long addr = ipv4(slash < 0 ? value : value.substring(0, slash), line, column);
        long mask = 0xFFFF_FFFFL;
        if (slash >= 0)
        {
            final String m = value.substring(slash + 1);
            if (m.contains("."))
            {
                mask = ipv4(m, line, column + slash + 1);
            }
            else
            {
                final int len = number(m, 0, 32, line, column + slash + 1, "prefix length");
                mask = len == 0 ? 0 : (0xFFFF_FFFFL << (32 - len)) & 0xFFFF_FFFFL;
            }
        }
        return new long[] { addr & mask, mask };
    }

    private static long ipv4(final String text, final int line, final int column)
    {
        final String[] parts = text.split("\\.", -1);
        if (parts.length != 4)
        {
            throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv4 address");
        }
        long v = 0;
        for (final String p : parts)
        {
            final int octet;
            try
            {
                octet = Integer.parseInt(p);
            }
            catch (final NumberFormatException ex)
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv4 address");
            }
            if (octet < 0 || octet > 255 || p.length() > 3)
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv4 address");
            }
            v = v << 8 | octet;
        }
        return v;
    }

    private static long[] ipv6Cidr(final String value, final int line, final int column)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "address needed");
        }
        final int slash = value.indexOf('/');
        final String text = slash < 0 ? value : value.substring(0, slash);
        final int len = slash < 0 ? 128 : number(value.substring(slash + 1), 0, 128, line, column + slash + 1, "prefix length");
        long hi;
        long lo;
        try
        {
            final InetAddress a = text.indexOf(':') >= 0 ? InetAddress.getByName(text) : null;
            if (!(a instanceof Inet6Address) && !(a instanceof Inet4Address))
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv6 address");
            }
            byte[] b = a.getAddress();
            if (b.length == 4)
            {
                final byte[] mapped = new byte[16];
                mapped[10] = (byte)0xFF;
                mapped[11] = (byte)0xFF;
                System.arraycopy(b, 0, mapped, 12, 4);
                b = mapped;
            }
            hi = 0;
            lo = 0;
            for (int i = 0; i < 8; i++)
            {
                hi = hi << 8 | (b[i] & 0xFF);
                lo = lo << 8 | (b[8 + i] & 0xFF);
            }
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv6 address");
        }
        final long maskHi = len >= 64 ? -1L : len == 0 ? 0 : -1L << (64 - len);
        final long maskLo = len <= 64 ? 0 : len == 128 ? -1L : -1L << (128 - len);
        return new long[] { hi & maskHi, lo & maskLo, maskHi, maskLo };
    }

    private static long[] label(final String value, final int line, final int column)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "ct_label needs a value");
        }
        final int slash = value.indexOf('/');
        final long[] v = hex128(slash < 0 ? value : value.substring(0, slash), line, column);
        final long[] m = slash < 0 ? new long[] { -1L, -1L } : hex128(value.substring(slash + 1), line, column + slash + 1);
        return new long[] { v[0] & m[0], v[1] & m[1], m[0], m[1] };
    }

    /** A number up to 128 bits, decimal or 0x-hex: {lo, hi}. */
    private static long[] hex128(final String text, final int line, final int column)
    {
        try
        {
            final java.math.BigInteger v = text.startsWith("0x") || text.startsWith("0X")
                ? new java.math.BigInteger(text.substring(2), 16) : new java.math.BigInteger(text);
            if (v.signum() < 0 || v.bitLength() > 128)
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' does not fit 128 bits");
            }
            return new long[] { v.longValue(), v.shiftRight(64).longValue() };
        }
        catch (final NumberFormatException ex)
        {
            throw new FlowSyntaxException(line, column, "'" + text + "' is not a number");
        }
    }

    // ---- actions ------------------------------------------------------------------------------------------------

    private List<FlowAction> parseActions(final String text, final int line, final int column, final int table)
    {
        final List<FlowAction> actions = new ArrayList<>();
        final List<int[]> parts = splitTopLevel(text, line, column);
        boolean drop = false;
        for (final int[] p : parts)
        {
            final String a = text.substring(p[0], p[1]).trim();
            final int col = column + p[0] + (text.substring(p[0], p[1]).indexOf(a.isEmpty() ? " " : a.substring(0, 1)));
            if (a.isEmpty())
            {
                throw new FlowSyntaxException(line, column + p[0], "empty action");
            }
            if (a.equals("drop"))
            {
                drop = true;
                actions.add(FlowAction.Drop.INSTANCE);
            }
            else if (a.equalsIgnoreCase("normal"))
            {
                actions.add(FlowAction.Normal.INSTANCE);
            }
            else if (a.startsWith("output:"))
            {
                actions.add(new FlowAction.Output(number(a.substring(7), 0, 65535, line, col + 7, "output port")));
            }
            else if (a.chars().allMatch(Character::isDigit))
            {
                actions.add(new FlowAction.Output(number(a, 0, 65535, line, col, "output port")));
            }
            else if (a.equals("ct") || a.startsWith("ct("))
            {
                actions.add(parseCt(a, line, col, table));
            }
            else
            {
                throw new FlowSyntaxException(line, col, "unknown action '" + a + "'");
            }
        }
        if (drop && actions.size() > 1)
        {
            throw new FlowSyntaxException(line, column, "drop must be the only action");
        }
        if (actions.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "no actions (use 'drop')");
        }
        return actions;
    }

    private FlowAction.Ct parseCt(final String a, final int line, final int column, final int table)
    {
        boolean commit = false;
        boolean force = false;
        int zone = 0;
        int next = -1;
        NatSpec nat = null;
        boolean setMark = false;
        int markValue = 0;
        int markMask = 0;
        boolean setLabel = false;
        long[] label = null;
        if (a.startsWith("ct("))
        {
            if (!a.endsWith(")"))
            {
                throw new FlowSyntaxException(line, column + a.length() - 1, "ct: missing ')'");
            }
            final String inner = a.substring(3, a.length() - 1);
            for (final int[] p : splitTopLevel(inner, line, column + 3))
            {
                final String arg = inner.substring(p[0], p[1]).trim();
                final int col = column + 3 + p[0];
                if (arg.equals("commit"))
                {
                    commit = true;
                }
                else if (arg.equals("force"))
                {
                    force = true;
                    commit = true;
                }
                else if (arg.startsWith("zone="))
                {
                    zone = number(arg.substring(5), 0, 65535, line, col + 5, "zone");
                }
                else if (arg.startsWith("table="))
                {
                    next = number(arg.substring(6), 0, FlowTables.MAX_TABLES - 1, line, col + 6, "table");
                    if (next == table)
                    {
                        throw new FlowSyntaxException(line, col + 6, "ct(table=" + next + ") in table " + table
                            + " would loop");
                    }
                }
                else if (arg.equals("nat") || arg.startsWith("nat("))
                {
                    try
                    {
                        nat = natParser.apply(arg);
                    }
                    catch (final IllegalArgumentException ex)
                    {
                        throw new FlowSyntaxException(line, col, ex.getMessage());
                    }
                }
                else if (arg.startsWith("exec(") && arg.endsWith(")"))
                {
                    final String body = arg.substring(5, arg.length() - 1);
                    for (final int[] q : splitTopLevel(body, line, col + 5))
                    {
                        final String set = body.substring(q[0], q[1]).trim();
                        final int setCol = col + 5 + q[0];
                        final int arrow = set.indexOf("->");
                        if (!set.startsWith("set_field:") || arrow < 0)
                        {
                            throw new FlowSyntaxException(line, setCol, "exec: only set_field:V[/M]->ct_mark|ct_label");
                        }
                        final String field = set.substring(arrow + 2);
                        final String v = set.substring("set_field:".length(), arrow);
                        if (field.equals("ct_mark"))
                        {
                            final long[] vm = valueMask(v, 0xFFFF_FFFFL, line, setCol + 10, "ct_mark");
                            setMark = true;
                            markValue = (int)vm[0];
                            markMask = (int)vm[1];
                        }
                        else if (field.equals("ct_label"))
                        {
                            label = label(v, line, setCol + 10);
                            setLabel = true;
                        }
                        else
                        {
                            throw new FlowSyntaxException(line, setCol + arrow + 2, "exec: cannot set '" + field + "'");
                        }
                    }
                }
                else
                {
                    throw new FlowSyntaxException(line, col, "ct: unknown argument '" + arg + "'");
                }
            }
        }
        if ((setMark || setLabel) && !commit)
        {
            throw new FlowSyntaxException(line, column, "ct: ct_mark and ct_label can only be set with commit");
        }
        return new FlowAction.Ct(commit, force, zone, next, nat, setMark, markValue, markMask, setLabel,
            label == null ? 0 : label[0], label == null ? 0 : label[1], label == null ? 0 : label[2],
            label == null ? 0 : label[3], a);
    }

    /** Ranges [start, end) of the comma-separated parts of {@code s} outside parentheses. */
    private static List<int[]> splitTopLevel(final String s, final int line, final int column)
    {
        final List<int[]> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++)
        {
            final char ch = s.charAt(i);
            if (ch == '(' || ch == '[')
            {
                depth++;
            }
            else if (ch == ')' || ch == ']')
            {
                depth--;
                if (depth < 0)
                {
                    throw new FlowSyntaxException(line, column + i, "unbalanced ')'");
                }
            }
            else if (ch == ',' && depth == 0)
            {
                parts.add(new int[] { start, i });
                start = i + 1;
            }
        }
        if (depth != 0)
        {
            throw new FlowSyntaxException(line, column + s.length(), "unbalanced '('");
        }
        if (start < s.length() || parts.isEmpty())
        {
            parts.add(new int[] { start, s.length() });
        }
        return parts;
    }
}
