// Where things live inside the guest.
export const GUEST_USER = "agent";
export const GUEST_GLOBAL = "/mnt/global";
export const GUEST_INBOX = "/mnt/inbox";
export const GUEST_CONFIG_DIR = "/etc/agentshare";
