package org.kvmgdb.core.elf;

/**
 * The guest ELF cannot be run. The message is one line naming the file and what is wrong with it;
 * the launcher prints it and exits with status 2 before anything is started.
 */
public final class ElfException extends Exception {
    public ElfException(String message) {
        super(message);
    }
}
