/*
 * rpb/names.h - canonical socket names of running-process broker v1
 * (spec/discovery.md NAME-001..NAME-006): the user hash, the broker
 * directory and the four socket leaves.  Derivation is I/O-free;
 * rpb_machine_id() and rpb_names_for_current_user() read the machine id,
 * the uid and XDG_RUNTIME_DIR.
 */
#ifndef RPB_NAMES_H
#define RPB_NAMES_H

#include "rpb/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_SUN_PATH_MAX 108  /* sizeof sockaddr_un.sun_path: a path is < this (NAME-005) */
#define RPB_USER_HASH_LEN 16  /* hex digits of the user hash (NAME-003) */
#define RPB_MACHINE_ID_MAX 256 /* longest machine id accepted, in bytes */

typedef enum rpb_name_kind {
    RPB_NAME_SHARED,   /* rpb-v1-<h>-shared */
    RPB_NAME_SERVICE,  /* rpb-v1-<h>-svc-<service> */
    RPB_NAME_INSTANCE, /* rpb-v1-<h>-inst-<instance> */
    RPB_NAME_BACKEND,  /* rpb-v1-<h>-be-<32 lowercase hex> */
} rpb_name_kind;

/* Everything a path depends on, derived once. */
typedef struct rpb_names {
    char user_hash[RPB_USER_HASH_LEN + 1]; /* NUL-terminated */
    char dir[RPB_SUN_PATH_MAX];            /* the broker directory, no trailing '/' */
} rpb_names;

/* NAME-003: the 16 lowercase hex digits of the first 8 bytes of
 * BLAKE3("<uid>:<machine_id>") into out (NUL-terminated).  machine_id is
 * used as given (already trimmed).  RPB_OK, or RPB_ERR_NO_MACHINE_ID when
 * machine_id is empty or longer than RPB_MACHINE_ID_MAX. */
RPB_API int rpb_user_hash(unsigned long uid, const char *machine_id, char out[RPB_USER_HASH_LEN + 1]);

/* NAME-003/004/006, I/O-free: fills *n from the uid, the trimmed machine
 * id and the value of XDG_RUNTIME_DIR (NULL when unset).  RPB_OK,
 * RPB_ERR_NO_MACHINE_ID, or RPB_ERR_NAME_TOO_LONG when the directory alone
 * leaves no room for a leaf. */
RPB_API int rpb_names_init(rpb_names *n, unsigned long uid, const char *machine_id,
                           const char *xdg_runtime_dir);

/* Reads the machine id (NAME-003: /etc/machine-id, else
 * /var/lib/dbus/machine-id, trimmed) into out.  RPB_OK, or
 * RPB_ERR_NO_MACHINE_ID when neither holds one (cap must exceed
 * RPB_MACHINE_ID_MAX, else RPB_ERR_INVALID_ARGUMENT). */
RPB_API int rpb_machine_id(char *out, size_t cap);

/* rpb_names_init() for getuid(), rpb_machine_id() and getenv("XDG_RUNTIME_DIR"). */
RPB_API int rpb_names_for_current_user(rpb_names *n);

/* NAME-001/002/005: the socket path of one leaf into out (cap bytes,
 * NUL-terminated).  arg is the service, the instance or the 32-hex backend
 * suffix; NULL for RPB_NAME_SHARED.  RPB_OK, RPB_ERR_NAME_INVALID (arg
 * outside its grammar), RPB_ERR_NAME_TOO_LONG (108 bytes or more), or
 * RPB_ERR_BUFFER_TOO_SMALL. */
RPB_API int rpb_names_path(const rpb_names *n, rpb_name_kind kind, const char *arg, char *out,
                           size_t cap);

#ifdef __cplusplus
}
#endif
#endif
