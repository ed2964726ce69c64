/* Typed results from the checked result objects of each operation. */
#ifndef XCLONE_RESULTS_H
#define XCLONE_RESULTS_H

#include <cjson/cJSON.h>

#include "build.h"
#include "xclone.h"

int xc_hello_from(const cJSON *result, struct xclone_hello **out, struct xclone_error *err);
int xc_host_info_from(const cJSON *result, struct xclone_host_info **out,
		      struct xclone_error *err);
/* result.device (device.get, device.wait). */
int xc_device_from(const cJSON *device, struct xclone_device **out, struct xclone_error *err);
int xc_preflight_from(const cJSON *result, struct xclone_preflight **out,
		      struct xclone_error *err);
int xc_clean_from(const cJSON *result, struct xclone_clean **out, struct xclone_error *err);

/* A task record (already checked by the codec) into *t, strings in b's arena. */
int xc_task_fill(struct xc_build *b, const cJSON *json, struct xclone_task *t,
		 struct xclone_error *err);
int xc_task_from(const cJSON *json, struct xclone_task **out, struct xclone_error *err);
int xc_task_list_from(const cJSON *result, struct xclone_task_list **out,
		      struct xclone_error *err);

/* Ends a build: the result on success, XC_E_NOMEM (arena freed) when an allocation failed. */
int xc_build_end(struct xc_build *b, void **out, struct xclone_error *err);

#endif
