package org.kvmgdb.core.registry;

/**
 * The set of providers cannot be used as it is: two jars claim one id or scheme, or a
 * {@code -Dkvmgdb.arch=} / {@code -Dkvmgdb.transport=} choice names nothing that was found, or
 * no (single) architecture fits a guest. The message is written for the user.
 */
public class RegistryException extends RuntimeException {
    private final boolean userChoice;

    public RegistryException(String message, boolean userChoice) {
        super(message);
        this.userChoice = userChoice;
    }

    /**
     * True when the user's own choice is at fault (an unknown {@code -Dkvmgdb.*} value), which a
     * launcher reports as a usage error; false for a broken installation (duplicate jars in lib/)
     * or a guest no installed architecture runs.
     */
    public boolean userChoice() {
        return userChoice;
    }
}
