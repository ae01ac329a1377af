package io.ctrack.app;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.pcap.PcapWriter;
import io.ctrack.engine.status.EngineCounter;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code ctrack demo}: drives synthetic traffic through the engine and shows what it tracked. Needs nothing but
 * the project itself.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Generates a realistic traffic mix (TCP connections opened, used and closed, UDP, ping, an ICMP error,",
        "a fragmented datagram, IPv6, and packets a tracker must refuse), tracks it with commit in zone 0, and",
        "prints each kind of packet with the ct_state it got, the connection table and the counters." })
public final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--connections", paramLabel = "N", defaultValue = "40",
        description = "TCP connections in the mix, 1-100000 (default ${DEFAULT-VALUE}).")
    private int connections;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Packets per batch (default ${DEFAULT-VALUE}).")
    private int batch;

    @Option(names = "--engine", paramLabel = "sharded|embedded", defaultValue = "sharded",
        description = "'sharded' (default): a node on embedded defaults: packet worker, Aeron IPC, bucket actors; "
            + "'embedded': one table on this thread.")
    private String engine;

    @Option(names = "--buckets", paramLabel = "N", defaultValue = "4", description = "Buckets of the sharded engine (default ${DEFAULT-VALUE}).")
    private int buckets;

    @Option(names = "--verbose", description = "Print every packet, not one line per kind.")
    private boolean verbose;

    @Option(names = "--write", paramLabel = "FILE", description = "Also write the generated traffic to a pcap file (replay it with 'ctrack replay FILE').")
    private Path write;

    @Override
    public Integer call() throws IOException
    {
        if (connections < 1 || connections > 100_000)
        {
            throw new UserError("--connections must be 1-100000, got " + connections);
        }
        if (batch < 1 || batch > 1024)
        {
            throw new UserError("--batch must be 1-1024, got " + batch);
        }
        try (TrackingEngine tracker = TrackingEngine.create(engine, buckets))
        {
            return demo(tracker);
        }
    }

    private int demo(final TrackingEngine tracker) throws IOException
    {
        final SyntheticTraffic traffic = SyntheticTraffic.demo(connections);
        final PrintStream out = System.out;
        out.printf("ctrack demo: %d synthetic packets through %s%n(commit, zone 0, batches of %d)%n%n",
            traffic.count(), tracker.describe(), batch);

        final ExecParams params = ExecParams.commit(0);
        final FrameBatch frames = new FrameBatch(batch);
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[batch * Verdict.LENGTH]);
        final Verdict verdict = new Verdict();
        final int[] states = new int[traffic.count()];
        final long nowMs = System.currentTimeMillis();
        for (int start = 0; start < traffic.count(); start += batch)
        {
            frames.clear();
            final int n = Math.min(batch, traffic.count() - start);
            for (int i = 0; i < n; i++)
            {
                frames.add(traffic.buffer(), traffic.offset(start + i), traffic.length(start + i));
            }
            tracker.execute(frames, params, nowMs, verdicts);
            for (int i = 0; i < n; i++)
            {
                states[start + i] = verdict.wrap(verdicts, i * Verdict.LENGTH).ctState();
            }
        }

        if (verbose)
        {
            for (int i = 0; i < traffic.count(); i++)
            {
                out.printf("%6d  %-45s %s%n", i + 1, traffic.label(i), CtState.format(states[i]));
            }
        }
        else
        {
            final Map<String, Map<String, Integer>> byKind = new TreeMap<>();
            final List<String> order = new ArrayList<>();
            for (int i = 0; i < traffic.count(); i++)
            {
                if (!byKind.containsKey(traffic.label(i)))
                {
                    order.add(traffic.label(i));
                }
                byKind.computeIfAbsent(traffic.label(i), k -> new TreeMap<>())
                    .merge(CtState.format(states[i]), 1, Integer::sum);
            }
            out.printf("%-45s %s%n", "packet", "ct_state (count)");
            for (final String kind : order)
            {
                final StringBuilder sb = new StringBuilder();
                byKind.get(kind).forEach((state, count) -> sb.append(sb.length() == 0 ? "" : ", ")
                    .append(state).append(" (").append(count).append(')'));
                out.printf("%-45s %s%n", kind, sb);
            }
        }

        final List<String> lines = tracker.dump(nowMs);
        Collections.sort(lines);
        out.printf("%nconnection table (%d connections, as 'ovs-dpctl dump-conntrack' prints them):%n", lines.size());
        final int shown = verbose ? lines.size() : Math.min(12, lines.size());
        for (int i = 0; i < shown; i++)
        {
            out.println("  " + lines.get(i));
        }
        if (shown < lines.size())
        {
            out.printf("  ... %d more (--verbose shows all)%n", lines.size() - shown);
        }

        out.printf("%ncounters:%n");
        final long[] counters = tracker.counters();
        for (final EngineCounter counter : EngineCounter.values())
        {
            final long value = counters[counter.id()];
            if (value != 0)
            {
                out.printf("  %-60s %d%n", counter.label(), value);
            }
        }

        if (write != null)
        {
            try (PcapWriter writer = new PcapWriter(write, false))
            {
                for (int i = 0; i < traffic.count(); i++)
                {
                    writer.write(nowMs * 1_000_000L + i * 1_000L, traffic.buffer(), traffic.offset(i),
                        traffic.length(i), traffic.length(i));
                }
            }
            out.printf("%nwrote %d packets to %s (try: ./ctrack replay %s --dump)%n", traffic.count(), write, write);
        }
        return 0;
    }
}
