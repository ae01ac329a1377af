package io.ctrack.app;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The {@code replay} command as a user runs it: golden comparison with Open vSwitch's output for every capture
 * of the reference corpus (batch 1 and 32), and one-line errors with exit code 2 for unusable files.
 */
@Timeout(60)
class ReplayCommandTest
{
    static Path corpus()
    {
        final String dir = System.getProperty("ctrack.corpus.dir", "../../shared/corpus");
        return Path.of(dir).toAbsolutePath().normalize();
    }

    @TestFactory
    Stream<DynamicTest> shouldMatchOpenVswitchOnEveryCorpusCapture() throws IOException
    {
        final Path corpus = corpus();
        assumeTrue(Files.isDirectory(corpus.resolve("expected")),
            "reference corpus not found at " + corpus + ": skipping the golden replay");
        final List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> files = Files.list(corpus))
        {
            for (final Path pcap : files.filter(p -> p.toString().endsWith(".pcap")).sorted().toList())
            {
                for (final int batch : new int[] { 1, 32 })
                {
                    final Path expected = corpus.resolve("expected")
                        .resolve(pcap.getFileName() + (batch == 1 ? ".ovs.txt" : ".ovs32.txt"));
                    if (Files.exists(expected))
                    {
                        tests.add(DynamicTest.dynamicTest(pcap.getFileName() + " batch " + batch, () ->
                        {
                            final Result result = run("replay", pcap.toString(), "--batch", Integer.toString(batch));
                            assertEquals(0, result.exitCode, result.err);
                            assertEquals(Files.readString(expected), result.out);
                        }));
                    }
                }
            }
        }
        assertTrue(tests.size() >= 20, "expected the whole corpus, found " + tests.size() + " comparisons");
        return tests.stream();
    }

    @Test
    void shouldRefuseAFileThatIsNotAPcap(@TempDir final Path dir) throws IOException
    {
        final Path file = Files.writeString(dir.resolve("notes.txt"), "this is not a capture, just some text\n");
        final Result result = run("replay", file.toString());
        assertEquals(2, result.exitCode);
        assertEquals("", result.out);
        assertEquals(1, result.err.lines().count(), result.err);
        assertTrue(result.err.contains(file.toString()) && result.err.contains("not a pcap file"), result.err);
    }

    @Test
    void shouldRefuseATruncatedPcap(@TempDir final Path dir) throws IOException
    {
        final byte[] header = pcapHeader(1);
        final byte[] record = new byte[16 + 10];
        record[8] = 60; // incl_len 60, but only 10 bytes follow
        final Path file = dir.resolve("cut.pcap");
        Files.write(file, concat(header, record));
        final Result result = run("replay", file.toString());
        assertEquals(2, result.exitCode);
        assertEquals(1, result.err.lines().count(), result.err);
        assertTrue(result.err.contains(file.toString()) && result.err.contains("truncated"), result.err);
    }

    @Test
    void shouldRefuseAnotherLinkType(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("raw.pcap");
        Files.write(file, pcapHeader(101));
        final Result result = run("replay", file.toString());
        assertEquals(2, result.exitCode);
        assertTrue(result.err.contains(file.toString()) && result.err.contains("link type 101"), result.err);
    }

    @Test
    void shouldRefuseAMissingFile(@TempDir final Path dir)
    {
        final Result result = run("replay", dir.resolve("absent.pcap").toString());
        assertEquals(2, result.exitCode);
        assertTrue(result.err.contains("no such file"), result.err);
    }

    @Test
    void shouldDumpTheTableInOpenVswitchFormat()
    {
        final Path pcap = corpus().resolve("tcp-handshake-data-fin.pcap");
        assumeTrue(Files.exists(pcap), "reference corpus not found at " + corpus() + ": skipping");
        final Result result = run("replay", pcap.toString(), "--dump");
        assertEquals(0, result.exitCode, result.err);
        final List<String> dump = result.out.lines().filter(l -> l.startsWith("tcp,")).toList();
        assertEquals(5, dump.size(), result.out);
        for (final String line : dump)
        {
            assertTrue(line.matches("tcp,orig=\\(src=10\\.200\\.1\\.1,dst=10\\.200\\.1\\.2,sport=\\d+,dport=\\d+\\),"
                + "reply=\\(src=10\\.200\\.1\\.2,dst=10\\.200\\.1\\.1,sport=\\d+,dport=\\d+\\),"
                + "protoinfo=\\(state=TIME_WAIT\\)"), line);
        }
    }

    private static byte[] pcapHeader(final int linkType)
    {
        final byte[] h = new byte[24];
        h[0] = (byte)0xD4;
        h[1] = (byte)0xC3;
        h[2] = (byte)0xB2;
        h[3] = (byte)0xA1;
        h[4] = 2;
        h[6] = 4;
        h[16] = (byte)0xFF;
        h[17] = (byte)0xFF;
        h[20] = (byte)linkType;
        return h;
    }

    private static byte[] concat(final byte[] a, final byte[] b)
    {
        final byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    record Result(int exitCode, String out, String err)
    {
    }

    /** Runs the command line as {@code Main.main} does (logging initialised first), capturing stdout and stderr. */
    static synchronized Result run(final String... args)
    {
        org.slf4j.LoggerFactory.getILoggerFactory();
        final PrintStream oldOut = System.out;
        final PrintStream oldErr = System.err;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        try
        {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            final int code = Main.run(args);
            System.out.flush();
            System.err.flush();
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
        finally
        {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
