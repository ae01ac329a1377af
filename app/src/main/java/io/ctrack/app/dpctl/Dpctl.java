package io.ctrack.app.dpctl;

import io.ctrack.engine.ct.ConnMatch;
import io.ctrack.engine.ct.DumpFormat;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.tcp.TcpState;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.shards.AdminActor;
import io.ctrack.shards.ShardedNode;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Open vSwitch's {@code ovs-dpctl} conntrack commands against a node, with the same syntax and output, plus a
 * few ctrack commands (timeout policies, counters). Output goes to a line sink as it is produced, so a dump of
 * millions of connections streams.
 */
public final class Dpctl
{
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final ShardedNode node;
    private final io.ctrack.sweeper.Sweepers sweepers;
    private volatile boolean tcpSeqCheck = true;

    /** @param sweepers the node's sweepers, or null if it has none. */
    public Dpctl(final ShardedNode node, final io.ctrack.sweeper.Sweepers sweepers)
    {
        this.node = node;
        this.sweepers = sweepers;
    }

    /** The commands and their syntax, for help. */
    public static final String USAGE = "conntrack commands (as ovs-dpctl):%n"
        + "  dump-conntrack [-m] [-s] [zone=N]%n"
        + "  flush-conntrack [zone=N] [mark=V[/M]] [labels=V[/M]] [ct-orig-tuple [ct-reply-tuple]]%n"
        + "  ct-stats-show [zone=N] [verbose]%n"
        + "  ct-get-nconns%n"
        + "  ct-set-maxconns N | ct-get-maxconns%n"
        + "  ct-set-limits [default=N] [zone=N,limit=M]... | ct-del-limits [default] [zone=N[,N]...]%n"
        + "  ct-get-limits [zone=N[,N]...]%n"
        + "  ct-enable-tcp-seq-chk | ct-disable-tcp-seq-chk | ct-get-tcp-seq-chk%n"
        + "  ct-set-sweep-interval MS | ct-get-sweep-interval%n"
        + "ctrack commands:%n"
        + "  ct-set-timeout-policy ID [ATTR=SECONDS]...   (ATTR: tcp_syn_sent ... icmp_reply)%n"
        + "  ct-del-timeout-policy ID%n"
        + "  ct-set-zone-policy zone=N,policy=ID%n"
        + "  ct-counters [per-bucket]%n"
        + "  ct-fail-bucket N   (inject a fault into bucket N: supervision drill)";

    /** Runs one command; lines of output go to {@code out}. */
    public void execute(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        if (args.isEmpty())
        {
            throw new DpctlException("missing command name; use --help for help");
        }
        final String command = args.get(0);
        // Options first, as ovs-appctl's dpctl handler takes them (commands that have no use for one ignore it); a
        // negative number is an argument (ctrack's own commands take numbers), not an option.
        int first = 1;
        int options = 0;
        while (first < args.size() && args.get(first).startsWith("-") && args.get(first).length() > 1
            && !Character.isDigit(args.get(first).charAt(1)))
        {
            options |= option(args.get(first++));
        }
        final List<String> rest = args.subList(first, args.size());
        switch (command)
        {
            case "dump-conntrack" -> dump(rest, options, out);
            case "flush-conntrack" -> flush(rest, out);
            case "ct-stats-show" -> statsShow(rest, out);
            case "ct-get-nconns" -> out.accept(result(node.<AdminActor.Result>ask(AdminActor.GetNConns::new)));
            case "ct-set-maxconns" -> setMaxConns(rest, out);
            case "ct-get-maxconns" -> out.accept(result(node.<AdminActor.Result>ask(AdminActor.GetMaxConns::new)));
            case "ct-set-limits" -> setLimits(rest);
            case "ct-del-limits" -> delLimits(rest);
            case "ct-get-limits" -> getLimits(rest, out);
            case "ct-enable-tcp-seq-chk" -> setSeqCheck(true, out);
            case "ct-disable-tcp-seq-chk" -> setSeqCheck(false, out);
            case "ct-get-tcp-seq-chk" -> out.accept("TCP sequence checking: " + (tcpSeqCheck ? "enabled" : "disabled"));
            case "ct-set-sweep-interval" -> setSweepInterval(rest, out);
            case "ct-get-sweep-interval" -> out.accept(Long.toString(sweepers().intervalMs()));
            case "ct-set-timeout-policy" -> setTimeoutPolicy(rest);
            case "ct-del-timeout-policy" -> delTimeoutPolicy(rest);
            case "ct-set-zone-policy" -> setZonePolicy(rest);
            case "ct-counters" -> counters(rest, out);
            case "ct-fail-bucket" -> failBucket(rest, out);
            default -> throw new DpctlException("unknown command '" + command + "'; use --help for help");
        }
    }

    /** Open vSwitch's dpctl options: {@code -m}/{@code --more}, {@code -s}/{@code --statistics}, short ones joined. */
    private static int option(final String arg) throws DpctlException
    {
        if (arg.startsWith("--"))
        {
            return switch (arg)
            {
                case "--more" -> DumpFormat.MORE;
                case "--statistics" -> DumpFormat.STATISTICS;
                default -> throw new DpctlException("Unrecognized option " + arg);
            };
        }
        int options = 0;
        for (int i = 1; i < arg.length(); i++)
        {
            options |= switch (arg.charAt(i))
            {
                case 'm' -> DumpFormat.MORE;
                case 's' -> DumpFormat.STATISTICS;
                default -> throw new DpctlException("Unrecognized option -" + arg.charAt(i));
            };
        }
        return options;
    }

    private static String result(final AdminActor.Result result) throws DpctlException
    {
        if (!result.ok())
        {
            throw new DpctlException(result.text());
        }
        return result.text();
    }

    private static int zoneArgument(final List<String> args, final int max) throws DpctlException
    {
        if (args.size() > max)
        {
            throw new DpctlException("invalid arguments: " + String.join(" ", args));
        }
        if (args.isEmpty())
        {
            return -1;
        }
        if (!args.get(0).startsWith("zone="))
        {
            throw new DpctlException("invalid argument " + args.get(0));
        }
        return CtMatchParser.parseUnsigned(args.get(0).substring(5), 0xFFFF, "invalid zone");
    }

    /** Streams every connection (of one zone) as {@code ct_dpif_format_entry} prints it, with {@code options}. */
    private void dump(final List<String> args, final int options, final Consumer<String> out) throws DpctlException
    {
        final int zone = zoneArgument(args, 1);
        forEachLine(zone, options, out);
    }

    private void forEachLine(final int zone, final int options, final Consumer<String> out)
    {
        AdminActor.DumpChunk chunk = node.ask(replyTo -> new AdminActor.Dump(zone, options, replyTo));
        while (true)
        {
            chunk.lines().forEach(out);
            if (chunk.last())
            {
                return;
            }
            chunk = AskPattern.<AdminActor.DumpNext, AdminActor.DumpChunk>ask(chunk.more(), AdminActor.DumpNext::new,
                TIMEOUT, node.system().scheduler()).toCompletableFuture().join();
        }
    }

    private void flush(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        final CtMatchParser.Parsed parsed = CtMatchParser.parse(args);
        final ConnMatch match = parsed.match();
        final AdminActor.Result result;
        if (match.isZero())
        {
            result = parsed.hasZone() ? node.ask(replyTo -> new AdminActor.FlushZone(parsed.zone(), replyTo))
                : node.ask(AdminActor.FlushAll::new);
        }
        else
        {
            // Open vSwitch: a full original tuple is flushed in the given zone (0 if none); a partial match in the
            // given zone, or in every zone.
            final int zone = match.isFiveTuple() ? parsed.zone() : parsed.hasZone() ? parsed.zone() : -1;
            result = node.ask(replyTo -> new AdminActor.FlushMatching(zone, match, replyTo));
        }
        if (!result.ok())
        {
            throw new DpctlException(result.text());
        }
    }

    /** Open vSwitch's {@code ct-stats-show}: connections by protocol, and by TCP state with {@code verbose}. */
    private void statsShow(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        int zone = -1;
        boolean verbose = false;
        for (final String arg : args)
        {
            if (arg.startsWith("verbose"))
            {
                verbose = true;
            }
            else if (arg.startsWith("zone="))
            {
                zone = CtMatchParser.parseUnsigned(arg.substring(5), 0xFFFF, "invalid zone");
            }
            else
            {
                throw new DpctlException("invalid argument " + arg);
            }
        }
        final int[] byProto = new int[9];
        final int[] byTcpState = new int[TcpState.values().length];
        final int[] total = { 0 };
        forEachLine(zone, 0, line ->
        {
            total[0]++;
            final String proto = line.substring(0, line.indexOf(','));
            final int kind = switch (proto)
            {
                case "tcp" -> 0;
                case "udp" -> 1;
                case "udplite" -> 2;
                case "sctp" -> 3;
                case "icmp" -> 4;
                case "dccp" -> 5;
                case "igmp" -> 6;
                case "icmpv6" -> 7;
                default -> 8;
            };
            byProto[kind]++;
            if (kind == 0)
            {
                final int at = line.indexOf("protoinfo=(state=");
                if (at >= 0)
                {
                    final String state = line.substring(at + 17, line.indexOf(')', at));
                    byTcpState[TcpState.valueOf(state).ordinal()]++;
                }
            }
        });
        out.accept("Connections Stats:");
        out.accept("    Total: " + total[0]);
        final String[] names = { "TCP", "UDP", "UDPLITE", "SCTP", "ICMP", "DCCP", "IGMP", "ICMPV6", "Other" };
        final int[] order = { 0, 1, 2, 3, 4, 5, 6, 8 };
        for (final int kind : order)
        {
            if (byProto[kind] != 0)
            {
                out.accept("  " + names[kind] + ": " + byProto[kind]);
                if (kind == 0 && verbose)
                {
                    out.accept("    Conn per TCP states:");
                    for (final TcpState state : TcpState.values())
                    {
                        if (byTcpState[state.ordinal()] != 0)
                        {
                            out.accept("\t  [" + state.name() + "]=" + byTcpState[state.ordinal()]);
                        }
                    }
                }
            }
        }
        if (byProto[7] != 0)
        {
            // Open vSwitch counts ICMPv6 but never prints it; we print it last.
            out.accept("  ICMPV6: " + byProto[7]);
        }
    }

    private void setMaxConns(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        if (args.size() != 1)
        {
            throw new DpctlException("maxconns missing or malformed");
        }
        final long max;
        try
        {
            max = Long.parseLong(args.get(0));
        }
        catch (final NumberFormatException ex)
        {
            throw new DpctlException("maxconns missing or malformed");
        }
        if (max < 0 || max > 0xFFFF_FFFFL)
        {
            throw new DpctlException("maxconns missing or malformed");
        }
        out.accept(result(node.ask(replyTo -> new AdminActor.SetMaxConns(max, replyTo))));
    }

    /** {@code [default=N] [zone=N,limit=M]...} as Open vSwitch's {@code ct_dpif_parse_zone_limit_tuple}. */
    private void setLimits(final List<String> args) throws DpctlException
    {
        if (args.isEmpty())
        {
            throw new DpctlException("too few arguments");
        }
        Integer defaultLimit = null;
        int i = 0;
        if (args.get(0).startsWith("default="))
        {
            defaultLimit = CtMatchParser.parseUnsigned(args.get(0).substring(8), 0xFFFF_FFFFL, "invalid default limit");
            i++;
        }
        final List<int[]> limits = new ArrayList<>();
        for (; i < args.size(); i++)
        {
            int zone = -1;
            long limit = -1;
            for (final String field : args.get(i).split(","))
            {
                final int eq = field.indexOf('=');
                final String key = eq < 0 ? field : field.substring(0, eq);
                final String value = eq < 0 ? "" : field.substring(eq + 1);
                if (value.isEmpty())
                {
                    throw new DpctlException("field " + key + " missing value");
                }
                switch (key)
                {
                    // Open vSwitch's messages (ct_dpif_parse_zone_limit_tuple).
                    case "zone" -> zone = CtMatchParser.parseUnsigned(value, 0xFFFF, "failed to parse field zone");
                    case "limit" -> limit = CtMatchParser.parseUnsigned(value, Integer.MAX_VALUE,
                        "failed to parse field limit");
                    default -> throw new DpctlException("invalid zone limit field: " + key);
                }
            }
            if (zone < 0 || limit < 0)
            {
                throw new DpctlException("failed to parse zone limit: " + args.get(i) + " (need zone=N,limit=M)");
            }
            limits.add(new int[] { zone, (int)limit });
        }
        final Integer defaultValue = defaultLimit;
        result(node.ask(replyTo -> new AdminActor.SetZoneLimits(defaultValue, limits, replyTo)));
    }

    private static List<Integer> zoneList(final String arg) throws DpctlException
    {
        if (!arg.startsWith("zone="))
        {
            throw new DpctlException("invalid argument " + arg);
        }
        final List<Integer> zones = new ArrayList<>();
        for (final String zone : arg.substring(5).split(","))
        {
            zones.add(CtMatchParser.parseUnsigned(zone, 0xFFFF, "invalid zone"));
        }
        return zones;
    }

    private void delLimits(final List<String> args) throws DpctlException
    {
        if (args.isEmpty())
        {
            throw new DpctlException("too few arguments");
        }
        int i = 0;
        boolean deleteDefault = false;
        if (args.get(0).equals("default"))
        {
            deleteDefault = true;
            i++;
        }
        final List<Integer> zones = i < args.size() ? zoneList(args.get(i++)) : List.of();
        if (i < args.size())
        {
            throw new DpctlException("invalid arguments");
        }
        final boolean all = deleteDefault;
        result(node.ask(replyTo -> new AdminActor.DeleteZoneLimits(all, zones, replyTo)));
    }

    private void getLimits(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        final List<Integer> zones = args.isEmpty() ? List.of() : zoneList(args.get(0));
        if (args.size() > 1)
        {
            throw new DpctlException("invalid arguments");
        }
        for (final String line : result(node.ask(replyTo -> new AdminActor.GetZoneLimits(zones, replyTo))).split("\n"))
        {
            out.accept(line);
        }
    }

    private void setSeqCheck(final boolean enabled, final Consumer<String> out) throws DpctlException
    {
        out.accept(result(node.ask(replyTo -> new AdminActor.SetTcpSeqCheck(enabled, replyTo))));
        tcpSeqCheck = enabled;
    }

    private io.ctrack.sweeper.Sweepers sweepers() throws DpctlException
    {
        if (sweepers == null)
        {
            throw new DpctlException("this node runs no sweepers");
        }
        return sweepers;
    }

    /** Open vSwitch's {@code ct-set-sweep-interval MS}: a positive number of milliseconds. */
    private void setSweepInterval(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        if (args.size() != 1)
        {
            throw new DpctlException("invalid sweep value");
        }
        final long ms;
        try
        {
            ms = Long.parseLong(args.get(0));
        }
        catch (final NumberFormatException ex)
        {
            throw new DpctlException("invalid sweep value");
        }
        if (ms <= 0 || ms > 0xFFFF_FFFFL)
        {
            throw new DpctlException("invalid sweep value");
        }
        sweepers().intervalMs(ms);
        out.accept("setting sweep interval successful");
    }

    private void setTimeoutPolicy(final List<String> args) throws DpctlException
    {
        if (args.isEmpty())
        {
            throw new DpctlException("usage: ct-set-timeout-policy ID [ATTR=SECONDS]...");
        }
        final int id = CtMatchParser.parseUnsigned(args.get(0), 0xFFFF, "invalid timeout policy id " + args.get(0));
        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        for (final String arg : args.subList(1, args.size()))
        {
            for (final String field : arg.split(","))
            {
                final int eq = field.indexOf('=');
                if (eq < 0)
                {
                    throw new DpctlException("expected ATTR=SECONDS, got '" + field + "'");
                }
                final TimeoutAttr attr;
                try
                {
                    attr = TimeoutAttr.byConfigName(field.substring(0, eq));
                }
                catch (final IllegalArgumentException ex)
                {
                    throw new DpctlException(ex.getMessage());
                }
                seconds[attr.ordinal()] = CtMatchParser.parseUnsigned(field.substring(eq + 1), Integer.MAX_VALUE / 1000,
                    "invalid seconds for " + attr.configName());
            }
        }
        result(node.ask(replyTo -> new AdminActor.SetTimeoutPolicy(id, seconds, replyTo)));
    }

    private void delTimeoutPolicy(final List<String> args) throws DpctlException
    {
        if (args.size() != 1)
        {
            throw new DpctlException("usage: ct-del-timeout-policy ID");
        }
        final int id = CtMatchParser.parseUnsigned(args.get(0), 0xFFFF, "invalid timeout policy id " + args.get(0));
        result(node.ask(replyTo -> new AdminActor.DeleteTimeoutPolicy(id, replyTo)));
    }

    private void setZonePolicy(final List<String> args) throws DpctlException
    {
        if (args.size() != 1)
        {
            throw new DpctlException("usage: ct-set-zone-policy zone=N,policy=ID");
        }
        int zone = -1;
        int policy = -1;
        for (final String field : args.get(0).split(","))
        {
            if (field.startsWith("zone="))
            {
                zone = CtMatchParser.parseUnsigned(field.substring(5), 0xFFFF, "invalid zone");
            }
            else if (field.startsWith("policy="))
            {
                policy = CtMatchParser.parseUnsigned(field.substring(7), 0xFFFF, "invalid policy id");
            }
            else
            {
                throw new DpctlException("usage: ct-set-zone-policy zone=N,policy=ID");
            }
        }
        if (zone < 0 || policy < 0)
        {
            throw new DpctlException("usage: ct-set-zone-policy zone=N,policy=ID");
        }
        final int z = zone;
        final int p = policy;
        result(node.ask(replyTo -> new AdminActor.SetZonePolicy(z, p, replyTo)));
    }

    /** Every non-zero counter, summed over buckets and workers, or per bucket. */
    private void counters(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        final boolean perBucket = !args.isEmpty() && args.get(0).equals("per-bucket");
        if (args.size() > (perBucket ? 1 : 0))
        {
            throw new DpctlException("usage: ct-counters [per-bucket]");
        }
        final long[] totals = node.counterTotals();
        for (final EngineCounter counter : EngineCounter.values())
        {
            if (totals[counter.id()] != 0)
            {
                out.accept(String.format("%-60s %d", counter.label(), totals[counter.id()]));
            }
        }
        if (perBucket)
        {
            for (int b = 0; b < node.buckets(); b++)
            {
                out.accept("bucket " + b + ":");
                for (final EngineCounter counter : EngineCounter.values())
                {
                    final long value = node.bucketCounter(b, counter);
                    if (value != 0)
                    {
                        out.accept(String.format("  %-58s %d", counter.label(), value));
                    }
                }
                out.accept(String.format("  %-58s %d", "restarts after failures", node.bucketRestarts(b)));
            }
        }
    }

    private void failBucket(final List<String> args, final Consumer<String> out) throws DpctlException
    {
        if (args.size() != 1)
        {
            throw new DpctlException("usage: ct-fail-bucket N");
        }
        final int bucket = CtMatchParser.parseUnsigned(args.get(0), 1023, "invalid bucket " + args.get(0));
        out.accept(result(node.ask(replyTo -> new AdminActor.FailBucket(bucket, replyTo))));
    }
}
