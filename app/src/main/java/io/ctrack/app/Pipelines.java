package io.ctrack.app;

import io.ctrack.engine.flow.FlowParser;
import io.ctrack.engine.flow.FlowSyntaxException;
import io.ctrack.engine.flow.FlowTables;
import io.ctrack.nat.NatActionParser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loading flow tables for the command line: from a file, or the built-in examples. */
public final class Pipelines
{
    /** Open vSwitch's classic stateless-to-stateful firewall (ports 1 inside, 2 outside). */
    public static final String FIREWALL = String.join("\n",
        "# The classic stateful firewall: connections start from port 1 only.",
        "table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)",
        "table=0, priority=10,arp actions=NORMAL",
        "table=0, priority=1 actions=drop",
        "table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2",
        "table=1, ct_state=+new+trk,ip,in_port=2 actions=drop",
        "table=1, ct_state=+est+trk,ip,in_port=1 actions=output:2",
        "table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1",
        "");

    private Pipelines()
    {
    }

    /** A parser with Open vSwitch's {@code nat(...)} syntax. */
    public static FlowParser parser()
    {
        return new FlowParser(NatActionParser::parse);
    }

    /**
     * The firewall's table 0 and a table 1 of {@code rules} generated ACL rules ahead of the established ones:
     * rule k allows new TCP connections from 10.(k/256).(k%256).0/24 to port 80 or 443 (alternately), and a last
     * rule allows new UDP from 10.0.0.0/8 to port 53; established and reply traffic is allowed after the ACL.
     */
    public static String acl(final int rules)
    {
        final StringBuilder s = new StringBuilder();
        s.append("table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)\n");
        s.append("table=0, priority=10,arp actions=NORMAL\n");
        s.append("table=0, priority=1 actions=drop\n");
        for (int k = 0; k < rules - 1; k++)
        {
            s.append("table=1, priority=").append(2000 + rules - k).append(",ct_state=+new+trk,tcp,in_port=1,nw_src=10.")
                .append(k / 256).append('.').append(k % 256).append(".0/24,tp_dst=").append(k % 2 == 0 ? 80 : 443)
                .append(" actions=ct(commit),output:2\n");
        }
        s.append("table=1, priority=2000,ct_state=+new+trk,udp,in_port=1,nw_src=10.0.0.0/8,tp_dst=53 actions=ct(commit),output:2\n");
        s.append("table=1, priority=1000,ct_state=+est+trk,ip,in_port=1 actions=output:2\n");
        s.append("table=1, priority=1000,ct_state=+est+trk,ip,in_port=2 actions=output:1\n");
        s.append("table=1, priority=1 actions=drop\n");
        return s.toString();
    }

    /** Flows from {@code spec}: a file, or {@code firewall}, or {@code acl:N}. */
    public static FlowTables load(final String spec, final int generation)
    {
        final String text;
        final String name;
        if (spec.equals("firewall"))
        {
            text = FIREWALL;
            name = "built-in firewall";
        }
        else if (spec.startsWith("acl:"))
        {
            final int n;
            try
            {
                n = Integer.parseInt(spec.substring(4));
            }
            catch (final NumberFormatException ex)
            {
                throw new UserError("acl:N needs a number of rules, got '" + spec + "'");
            }
            if (n < 1 || n > 60_000)
            {
                throw new UserError("acl:N: 1-60000 rules, got " + n);
            }
            text = acl(n);
            name = "generated ACL";
        }
        else
        {
            final Path path = Path.of(spec);
            try
            {
                text = Files.readString(path);
            }
            catch (final IOException ex)
            {
                throw new UserError(spec + ": cannot read: " + ex.getMessage());
            }
            name = spec;
        }
        try
        {
            return parser().parse(text, generation);
        }
        catch (final FlowSyntaxException ex)
        {
            throw new UserError(name + ": " + ex.getMessage());
        }
    }
}
