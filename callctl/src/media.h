/* media.h — media anchoring of a call tree in rtpengine (kamailio-rtpengine.md
 * §5): one rtpengine call per tree (call-id = the root CallSid), one tag per
 * leg (the leg's CallSid; "V" + root for the virtual peer that lets us answer
 * before any other leg exists). Wraps the ng client with the recipes:
 * answering with no peer, offering to a new leg, answering from a leg,
 * re-INVITE relays, ringback, delete. */
#ifndef FC_MEDIA_H
#define FC_MEDIA_H

#include <uv.h>

/* sdp: the SDP rtpengine produced (NULL on error); err: NULL or a message.
 * Both valid only during the callback. */
typedef void (*media_cb)(const char *sdp, const char *err, void *ud);

int media_init(uv_loop_t *loop, const char *ng_addr);
void media_shutdown(void);

/* offer → answer with a crafted blackhole SDP: the SDP to answer the caller
 * with before anything is dialled (§5.3). */
int media_answer_alone(const char *root, const char *a_tag, const char *a_sdp, media_cb cb,
                       void *ud);
/* offer from the virtual peer (a crafted blackhole SDP: PCMU, PCMA,
 * telephone-event) towards tag: the SDP to offer a leg we call before any
 * other leg exists (a REST-created call). Answer it with media_answer(root,
 * media_virtual_tag(root), tag, its SDP). */
int media_offer_alone(const char *root, const char *tag, media_cb cb, void *ud);
/* "V" + root: the virtual peer's tag. */
const char *media_virtual_tag(const char *root, char out[64]);
/* offer from `from_tag` (its SDP) towards `to_tag`: the SDP to send to_tag. */
int media_offer(const char *root, const char *from_tag, const char *to_tag, const char *sdp,
                media_cb cb, void *ud);
/* answer of to_tag (its SDP) to from_tag's offer: the SDP for from_tag. */
int media_answer(const char *root, const char *from_tag, const char *to_tag, const char *sdp,
                 media_cb cb, void *ud);
/* Plays file to tag, repeated; stops any earlier playback to it. Fire and
 * forget (errors logged). */
void media_play(const char *root, const char *tag, const char *file);
void media_stop(const char *root, const char *tag);
/* Stops (block) or restarts (unblock) forwarding of the media that tag
 * sends: a ringing leg's early media must not reach the caller unless it is
 * the one leg chosen for it. Fire and forget. */
void media_block(const char *root, const char *tag);
void media_unblock(const char *root, const char *tag);
/* Deletes the whole rtpengine call. Fire and forget. */
void media_delete(const char *root);
/* 1 when both SDPs put the audio stream at the same address and port (the
 * first c= and m=audio lines), 0 otherwise or when either is NULL. */
int media_same_address(const char *a, const char *b);
/* The crafted answer for §5.3, exposed for tests: a sendrecv SDP towards a
 * discard address with the first codec of offer (and telephone-event when
 * offered). malloc'd, NULL when offer has no audio stream. */
char *media_blackhole_sdp(const char *offer);

#endif
