//  Microsoft Graph change notifications: the validationToken handshake
//  (answered 200 text/plain with the URL-decoded token), clientState
//  checked on every notification in constant time (a mismatch is dropped),
//  and a batch {"value":[...]} split into one message per notification.
//  Pure; see provider.h. Facts: https://learn.microsoft.com/graph/api/resources/event.
#ifndef ZHUB_GRAPH_H
#define ZHUB_GRAPH_H

#include "provider.h"

//  No timestamp is signed; these are unused.
#define ZHUB_GRAPH_MAX_AGE_MS 0
#define ZHUB_GRAPH_MAX_FUTURE_MS 0

//  The longest validation token echoed back.
#define ZHUB_GRAPH_TOKEN_MAX 4096

extern const zhub_provider_t zhub_provider_graph;

#endif
