package io.ctrack.engine.flow;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.nat.NatSpec;
import io.ctrack.engine.packet.Protocols;

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
                case "table" -> table = FlowValues.number(value, 0, FlowTables.MAX_TABLES - 1, lineNo, valueColumn, "table");
                case "priority" -> priority = FlowValues.number(value, 0, 65535, lineNo, valueColumn, "priority");
                case "in_port" -> m.inPort = FlowValues.number(value, 0, 65535, lineNo, valueColumn, "in_port");
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
                case "dl_type" -> protocol(m, FlowValues.number(value, 0, 0xFFFF, lineNo, valueColumn, "dl_type"), Match.ANY, lineNo,
                    column, key);
                case "nw_proto" ->
                {
                    requireValue(value, lineNo, column, key);
                    m.nwProto = FlowValues.number(value, 0, 255, lineNo, valueColumn, "nw_proto");
                }
                case "nw_src", "nw_dst" ->
                {
                    if (m.dlType != Protocols.ETH_TYPE_IPV4 && m.dlType != Protocols.ETH_TYPE_ARP)
                    {
                        throw new FlowSyntaxException(lineNo, column, key + ": prerequisites not met (needs ip or arp)");
                    }
                    final long[] v = FlowValues.ipv4Cidr(value, lineNo, valueColumn);
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
                    final long[] v = FlowValues.ipv6Cidr(value, lineNo, valueColumn);
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
                    final long[] v = FlowValues.valueMask(value, 0xFFFF, lineNo, valueColumn, key);
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
                case "ct_zone" -> m.ctZone = FlowValues.number(value, 0, 65535, lineNo, valueColumn, "ct_zone");
                case "ct_mark" ->
                {
                    final long[] v = FlowValues.valueMask(value, 0xFFFF_FFFFL, lineNo, valueColumn, key);
                    m.ctMark = (int)v[0];
                    m.ctMarkMask = (int)v[1];
                }
                case "ct_label" ->
                {
                    final long[] v = FlowValues.label(value, lineNo, valueColumn);
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
                actions.add(new FlowAction.Output(FlowValues.number(a.substring(7), 0, 65535, line, col + 7, "output port")));
            }
            else if (a.chars().allMatch(Character::isDigit))
            {
                actions.add(new FlowAction.Output(FlowValues.number(a, 0, 65535, line, col, "output port")));
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
                    zone = FlowValues.number(arg.substring(5), 0, 65535, line, col + 5, "zone");
                }
                else if (arg.startsWith("table="))
                {
                    next = FlowValues.number(arg.substring(6), 0, FlowTables.MAX_TABLES - 1, line, col + 6, "table");
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
                            final long[] vm = FlowValues.valueMask(v, 0xFFFF_FFFFL, line, setCol + 10, "ct_mark");
                            setMark = true;
                            markValue = (int)vm[0];
                            markMask = (int)vm[1];
                        }
                        else if (field.equals("ct_label"))
                        {
                            label = FlowValues.label(v, line, setCol + 10);
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
