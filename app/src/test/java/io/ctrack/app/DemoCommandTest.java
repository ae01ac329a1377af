package io.ctrack.app;

import io.ctrack.engine.status.EngineCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ctrack demo} on both engines: every packet gets a verdict and is counted, every {@code inv} verdict has its
 * reason counted, every committed connection is in the table, and the two engines tell the same story.
 */
@Timeout(60)
class DemoCommandTest
{
    private static final Pattern HEADER = Pattern.compile("ctrack demo: (\\d+) synthetic packets through .*");
    private static final Pattern STATE_COUNT = Pattern.compile("([a-z|0]+) \\((\\d+)\\)");
    private static final Pattern TABLE = Pattern.compile("connection table \\((\\d+) connections, .*");
    private static final Pattern COUNTER = Pattern.compile("  (.+?) +(\\d+)");
    /** A line of {@code --verbose}: number, kind of packet, ct_state. */
    private static final Pattern VERBOSE = Pattern.compile(" *\\d+  .+ ([a-z|0]+)");

    /** What a demo run printed, taken apart. */
    record Demo(String out, int packets, int verdicts, int invalidVerdicts, int connections,
        Map<String, Long> counters)
    {
        long counter(final EngineCounter counter)
        {
            return counters.getOrDefault(counter.label(), 0L);
        }
    }

    private static Demo demo(final String... options)
    {
        final String[] args = new String[options.length + 1];
        args[0] = "demo";
        System.arraycopy(options, 0, args, 1, options.length);
        final ReplayCommandTest.Result result = ReplayCommandTest.run(args);
        assertEquals(0, result.exitCode(), result.err());
        assertEquals("", result.err());

        final List<String> lines = result.out().lines().toList();
        final Matcher header = HEADER.matcher(lines.get(0));
        assertTrue(header.matches(), lines.get(0));
        int verdicts = 0;
        int invalid = 0;
        int connections = -1;
        final Map<String, Long> counters = new HashMap<>();
        String section = "header";
        for (final String line : lines)
        {
            if (line.startsWith("packet "))
            {
                section = "verdicts";
                continue;
            }
            final Matcher table = TABLE.matcher(line);
            if (table.matches())
            {
                section = "table";
                connections = Integer.parseInt(table.group(1));
                continue;
            }
            if (line.equals("counters:"))
            {
                section = "counters";
                continue;
            }
            final Matcher verbose = VERBOSE.matcher(line);
            if (section.equals("header") && verbose.matches())
            {
                verdicts++;
                invalid += verbose.group(1).contains("inv") ? 1 : 0;
            }
            else if (section.equals("verdicts") && !line.isEmpty())
            {
                final Matcher m = STATE_COUNT.matcher(line.substring(Math.min(line.length(), 45)));
                int found = 0;
                while (m.find())
                {
                    final int count = Integer.parseInt(m.group(2));
                    verdicts += count;
                    invalid += m.group(1).contains("inv") ? count : 0;
                    found++;
                }
                assertTrue(found > 0, "a kind of packet without verdicts: " + line);
            }
            else if (section.equals("counters") && !line.isEmpty())
            {
                final Matcher m = COUNTER.matcher(line);
                assertTrue(m.matches(), line);
                counters.put(m.group(1), Long.parseLong(m.group(2)));
            }
        }
        return new Demo(result.out(), Integer.parseInt(header.group(1)), verdicts, invalid, connections, counters);
    }

    private static void assertCountersAddUp(final Demo demo)
    {
        assertTrue(demo.packets() > 0, demo.out());
        assertEquals(demo.packets(), demo.verdicts(), "every packet has a verdict:\n" + demo.out());
        assertEquals(demo.packets(), demo.counter(EngineCounter.PACKETS), "every packet is counted:\n" + demo.out());
        long invalidReasons = 0;
        for (final EngineCounter counter : EngineCounter.values())
        {
            if (counter.label().startsWith("invalid:"))
            {
                invalidReasons += demo.counter(counter);
            }
            assertFalse(counter.label().startsWith("dropped:") && demo.counter(counter) != 0,
                "nothing dropped: " + counter.label());
        }
        assertTrue(demo.invalidVerdicts() > 0, "the mix has invalid packets:\n" + demo.out());
        assertEquals(demo.invalidVerdicts(), invalidReasons, "every inv verdict has its reason counted:\n" + demo.out());
        assertEquals(demo.connections(), demo.counter(EngineCounter.CONN_CREATED) - demo.counter(EngineCounter.CONN_REPLACED),
            "every committed connection is in the table:\n" + demo.out());
        assertTrue(demo.counter(EngineCounter.FRAG_REASSEMBLED) > 0, demo.out());
    }

    @Test
    void shouldAccountForEveryPacketOnTheEmbeddedEngine()
    {
        final Demo demo = demo("--engine", "embedded");

        assertCountersAddUp(demo);
        assertEquals(0, demo.counter(EngineCounter.REQUESTS), "no buckets in the embedded engine");
    }

    @Test
    void shouldAccountForEveryPacketOnTheShardedEngine()
    {
        final Demo demo = demo("--buckets", "8", "--batch", "7");

        assertCountersAddUp(demo);
        // What reaches the buckets: every packet, less those the worker answered itself (unparseable, or held
        // fragments) plus the datagrams it reassembled from them.
        final long decidedByWorker = demo.counter(EngineCounter.INVALID_NOT_IP)
            + demo.counter(EngineCounter.INVALID_L3_HEADER) + demo.counter(EngineCounter.INVALID_L3_CHECKSUM)
            + demo.counter(EngineCounter.INVALID_L4_HEADER) + demo.counter(EngineCounter.INVALID_L4_CHECKSUM);
        assertEquals(demo.packets() - decidedByWorker - demo.counter(EngineCounter.FRAG_HELD)
            + demo.counter(EngineCounter.FRAG_REASSEMBLED), demo.counter(EngineCounter.REQUESTS), demo.out());
    }

    @Test
    void shouldTellTheSameStoryOnBothEngines()
    {
        final Demo embedded = demo("--engine", "embedded", "--connections", "200", "--verbose");
        final Demo sharded = demo("--connections", "200", "--verbose");

        assertCountersAddUp(embedded);
        assertCountersAddUp(sharded);
        assertEquals(withoutEngine(embedded.out()), withoutEngine(sharded.out()));
    }

    /** The output less the lines that name the engine or count what only buckets count. */
    private static List<String> withoutEngine(final String out)
    {
        return out.lines().skip(1).filter(l -> !l.contains(EngineCounter.REQUESTS.label())).toList();
    }

    @Test
    void shouldRefuseBadOptionsInOneLine()
    {
        for (final String[] args : new String[][] {
            { "demo", "--connections", "0" }, { "demo", "--batch", "2000" }, { "demo", "--engine", "warp" },
            { "demo", "--buckets", "3" } })
        {
            final ReplayCommandTest.Result result = ReplayCommandTest.run(args);
            assertEquals(2, result.exitCode(), String.join(" ", args));
            assertEquals(1, result.err().lines().count(), result.err());
            assertTrue(result.err().startsWith("ctrack demo: "), result.err());
        }
    }
}
