package io.ctrack.app;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.ctrack.app.ReplayCommandTest.corpus;
import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The golden replay on every engine: the embedded engine, and the sharded one with a single bucket (everything in
 * one table, as Open vSwitch) and with 16 (connections spread, ICMP errors routed by the tuple they quote), batch 1
 * and 32, over the reference corpus (skipped when absent) and the project's differential captures. Each must print
 * exactly what Open vSwitch printed; and their tables at the end must be the same.
 */
@Timeout(60)
class ReplayEnginesTest
{
    private static final String ABSENT = "(corpus absent)";
    private static final List<List<String>> ENGINES = List.of(
        List.of("--engine", "embedded"),
        List.of("--buckets", "1"),
        List.of("--buckets", "16"));

    static Stream<Arguments> goldenRuns() throws IOException
    {
        final Path corpus = corpus();
        if (!Files.isDirectory(corpus.resolve("expected")))
        {
            return Stream.of(Arguments.of(ABSENT, 1, List.of()));
        }
        final List<Arguments> runs = runs(corpus);
        assertTrue(runs.size() >= 20 * ENGINES.size(), "expected the whole corpus, found " + runs.size() + " runs");
        return runs.stream();
    }

    static Stream<Arguments> differentialRuns() throws IOException
    {
        final List<Arguments> runs = runs(differential());
        assertTrue(runs.size() >= 11 * ENGINES.size(), "expected the differential captures, found " + runs.size());
        return runs.stream();
    }

    /** Differential captures with Open vSwitch's verdicts under the capture's clock (timeouts), on every engine. */
    static Stream<Arguments> captureClockRuns() throws IOException
    {
        final List<Arguments> runs = runs(differential(), true);
        assertTrue(runs.size() >= 6 * ENGINES.size(), "expected the timeout captures, found " + runs.size());
        return runs.stream();
    }

    /** The project's own captures with Open vSwitch's verdicts (testdata/differential), for every app test. */
    static Path differential()
    {
        final String dir = System.getProperty("ctrack.differential.dir", "../testdata/differential");
        return Path.of(dir).toAbsolutePath().normalize();
    }

    private static List<Arguments> runs(final Path dir) throws IOException
    {
        return runs(dir, false);
    }

    /** A run per capture of {@code dir}, batch size with an expected output (for the clock), and engine. */
    private static List<Arguments> runs(final Path dir, final boolean captureClock) throws IOException
    {
        final List<Arguments> runs = new ArrayList<>();
        for (final Path pcap : pcaps(dir))
        {
            for (final int batch : new int[] { 1, 32 })
            {
                if (Files.exists(expected(dir, pcap, batch, captureClock)))
                {
                    for (final List<String> engine : ENGINES)
                    {
                        runs.add(Arguments.of(pcap.getFileName().toString(), batch, engine));
                    }
                }
            }
        }
        return runs;
    }

    static Stream<Arguments> captures() throws IOException
    {
        final Path corpus = corpus();
        if (!Files.isDirectory(corpus))
        {
            return Stream.of(Arguments.of(ABSENT));
        }
        return pcaps(corpus).stream().map(p -> Arguments.of(p.getFileName().toString()));
    }

    private static List<Path> pcaps(final Path corpus) throws IOException
    {
        try (Stream<Path> files = Files.list(corpus))
        {
            return files.filter(p -> p.toString().endsWith(".pcap")).sorted().toList();
        }
    }

    private static Path expected(final Path corpus, final Path pcap, final int batch, final boolean captureClock)
    {
        return corpus.resolve("expected").resolve(pcap.getFileName() + (batch == 1 ? ".ovs" : ".ovs32")
            + (captureClock ? "-pcapclock.txt" : ".txt"));
    }

    private static ReplayCommandTest.Result replay(final String pcap, final List<String> options)
    {
        return replay(corpus(), pcap, options);
    }

    private static ReplayCommandTest.Result replay(final Path dir, final String pcap, final List<String> options)
    {
        final List<String> args = new ArrayList<>(List.of("replay", dir.resolve(pcap).toString()));
        args.addAll(options);
        return run(args.toArray(new String[0]));
    }

    @ParameterizedTest(name = "{0} batch {1} {2}")
    @MethodSource("goldenRuns")
    void shouldMatchOpenVswitchOnEveryEngine(final String pcap, final int batch, final List<String> engine)
        throws IOException
    {
        assumeTrue(!pcap.equals(ABSENT), "reference corpus not found at " + corpus() + ": skipping");
        assertReplayMatches(corpus(), pcap, batch, engine, false);
    }

    @ParameterizedTest(name = "{0} batch {1} {2}")
    @MethodSource("differentialRuns")
    void shouldMatchOpenVswitchOnTheDifferentialCaptures(final String pcap, final int batch, final List<String> engine)
        throws IOException
    {
        assertReplayMatches(differential(), pcap, batch, engine, false);
    }

    @ParameterizedTest(name = "{0} batch {1} {2} --clock pcap")
    @MethodSource("captureClockRuns")
    void shouldMatchOpenVswitchWithTheCapturesClock(final String pcap, final int batch, final List<String> engine)
        throws IOException
    {
        assertReplayMatches(differential(), pcap, batch, engine, true);
    }

    private static void assertReplayMatches(final Path dir, final String pcap, final int batch,
        final List<String> engine, final boolean captureClock) throws IOException
    {
        final List<String> options = new ArrayList<>(engine);
        options.add("--batch");
        options.add(Integer.toString(batch));
        if (captureClock)
        {
            options.add("--clock");
            options.add("pcap");
        }

        final ReplayCommandTest.Result result = replay(dir, pcap, options);

        assertEquals(0, result.exitCode(), result.err());
        assertEquals("", result.err());
        assertEquals(Files.readString(expected(dir, dir.resolve(pcap), batch, captureClock)), result.out());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("captures")
    void shouldEndWithTheSameTableOnEveryEngine(final String pcap)
    {
        assumeTrue(!pcap.equals(ABSENT), "reference corpus not found at " + corpus() + ": skipping");
        final ReplayCommandTest.Result embedded = replay(pcap, List.of("--engine", "embedded", "--dump", "--batch", "32"));
        assertEquals(0, embedded.exitCode(), embedded.err());
        final List<String> table = table(embedded.out());
        for (final List<String> engine : ENGINES.subList(1, ENGINES.size()))
        {
            final List<String> options = new ArrayList<>(engine);
            options.addAll(List.of("--dump", "--batch", "32"));
            final ReplayCommandTest.Result sharded = replay(pcap, options);
            assertEquals(0, sharded.exitCode(), sharded.err());
            assertEquals(verdicts(embedded.out()), verdicts(sharded.out()), "verdicts with " + engine);
            assertEquals(table, table(sharded.out()), "table with " + engine);
        }
        if (!pcap.startsWith("crafted-non-ip") && !pcap.startsWith("crafted-bad"))
        {
            assertFalse(table.isEmpty(), "a capture of real traffic leaves connections: " + embedded.out());
        }
    }

    /** The per-packet lines ({@code N: flags}). */
    private static List<String> verdicts(final String out)
    {
        return out.lines().filter(l -> l.matches("\\d+: .*")).toList();
    }

    /** The dump lines that follow them. */
    private static List<String> table(final String out)
    {
        return out.lines().filter(l -> !l.matches("\\d+: .*")).toList();
    }
}
