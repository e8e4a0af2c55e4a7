package org.kvmgdb.core.session;

import java.nio.charset.StandardCharsets;
import org.kvmgdb.core.protocol.Hex;

/**
 * {@code qXfer:threads:read::OFFSET,LENGTH}: the thread list as gdb's threads.dtd document, one
 * {@code <thread>} per vCPU with its name ({@code info threads} shows it in quotes) and, as the
 * element's text, what {@code qThreadExtraInfo} would say (gdb shows it in parentheses and, when it
 * reads this document, never sends {@code qThreadExtraInfo}).
 *
 * <p>gdb reads the document in windows; it is built when a read starts at offset 0 and kept for
 * the windows after it, so that one read sees one consistent list.
 */
final class ThreadListXfer {
    private final SessionState state;
    private byte[] document;

    ThreadListXfer(SessionState state) {
        this.state = state;
    }

    /** The document a read at {@code offset} continues. */
    byte[] document(long offset) {
        if (offset == 0 || document == null) {
            document = build().getBytes(StandardCharsets.UTF_8);
        }
        return document;
    }

    private String build() {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<threads>\n");
        for (int thread : state.target.threads()) {
            xml.append("<thread id=\"").append(Hex.number(thread)).append('"');
            String name = state.target.threadName(thread);
            if (name != null && !name.isEmpty()) {
                xml.append(" name=\"").append(escape(name)).append('"');
            }
            xml.append('>');
            String extra = state.target.threadExtraInfo(thread);
            if (extra != null) {
                xml.append(escape(extra));
            }
            xml.append("</thread>\n");
        }
        return xml.append("</threads>\n").toString();
    }

    /** XML character data and attribute values: the five predefined entities. */
    static String escape(String text) {
        StringBuilder s = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&':
                    s.append("&amp;");
                    break;
                case '<':
                    s.append("&lt;");
                    break;
                case '>':
                    s.append("&gt;");
                    break;
                case '"':
                    s.append("&quot;");
                    break;
                case '\'':
                    s.append("&apos;");
                    break;
                default:
                    s.append(c);
            }
        }
        return s.toString();
    }
}
