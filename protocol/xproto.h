/*
 * xclone wire protocol v1: the C codec both halves link (PROTOCOL.md is the
 * contract). One include for everything public.
 */
#ifndef XPROTO_H
#define XPROTO_H

#include "xp_args.h"
#include "xp_codes.h"
#include "xp_envelope.h"
#include "xp_error.h"
#include "xp_frame.h"
#include "xp_json.h"
#include "xp_limits.h"
#include "xp_ops.h"
#include "xp_progress.h"
#include "xp_request.h"
#include "xp_response.h"
#include "xp_schema.h"
#include "xp_task.h"
#include "xp_utf8.h"

#endif
