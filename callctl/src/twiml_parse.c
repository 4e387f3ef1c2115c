/* twiml_parse.c — twiml_parse(): the hardened expat driver (size cap, no
 * DOCTYPE, no entities, no external resources) and the element state
 * machine that places each element in the model: verbs under <Response>,
 * Say/Play/Pause under <Gather>, nouns under <Dial>, SSML under <Say>,
 * <Identity>/<Parameter> under <Client>, <Sip> under <Refer>, <Task> under
 * <Enqueue>, and anything under the generic verbs. */
#include <stdio.h>
#include <string.h>
#include "twiml_int.h"

static const tw_attr_spec no_attrs[] = {{NULL, 0, 0, 0, 0, 0, NULL}};

static tw_frame *push(tw_parser *p, int type, void *obj, const char *name, int own_text)
{
	tw_frame *f = &p->st[p->depth++];

	memset(f, 0, sizeof *f);
	f->type = type;
	f->obj = obj;
	f->name = name;
	f->textp = own_text ? &f->text : NULL;
	return f;
}

static int verb_has_text(twiml_kind k)
{
	return k == TWIML_SAY || k == TWIML_PLAY || k == TWIML_REDIRECT || k == TWIML_ENQUEUE ||
	       k == TWIML_DIAL || k >= TWIML_CONNECT;
}

/* Adds a verb to arr/n (the document, or a Gather) and starts it. */
static int start_verb(tw_parser *p, twiml_verb **arr, size_t *n, const char *name,
                      const char **atts, int in_gather)
{
	int k = tw_verb_kind(name);

	if (in_gather && k != TWIML_SAY && k != TWIML_PLAY && k != TWIML_PAUSE)
		return tw_fail(p, 13320, "Gather: <%.40s> cannot be nested in <Gather>", name);
	if (!k) {
		if (tw_noun_kind(name))
			return tw_fail(p, 12200, "<%.40s> is a noun and must be nested in <Dial>",
			               name);
		return tw_fail(p, 12200, "unknown verb <%.40s>", name);
	}
	twiml_verb *v = tw_grow(*arr, *n, sizeof *v);
	if (!v)
		return tw_fail(p, TW_OOM, "out of memory");
	*arr = v;
	v += (*n)++;
	v->kind = k;
	v->line = tw_line(p);
	if (tw_verb_start(p, v, in_gather, atts))
		return -1;
	push(p, FR_VERB, v, name, verb_has_text(k))->in_gather = in_gather;
	return 0;
}

static int start_node(tw_parser *p, twiml_node *parent, const char *name, const char **atts)
{
	twiml_node *c = tw_grow(parent->children, parent->n_children, sizeof *c);

	if (!c)
		return tw_fail(p, TW_OOM, "out of memory");
	parent->children = c;
	c += parent->n_children++;
	c->line = tw_line(p);
	if (tw_set_str(p, &c->name, name) || tw_copy_attrs(p, &c->attrs, &c->n_attrs, atts))
		return -1;
	push(p, FR_GENERIC, c, name, 1);
	return 0;
}

static int ssml_breaks(const char *name)
{
	return !strcmp(name, "break") || !strcmp(name, "p") || !strcmp(name, "s");
}

static int start_ssml(tw_parser *p, tw_frame *up, const char *name)
{
	twiml_verb *say = up->obj;

	say->u.say.ssml = true;
	if (ssml_breaks(name) && tw_buf_add(up->textp, " ", 1))
		return tw_fail(p, TW_OOM, "out of memory");
	tw_buf *t = up->textp;
	tw_frame *f = push(p, FR_SSML, say, name, 0);
	f->textp = t;
	return 0;
}

static int start_in_dial(tw_parser *p, twiml_dial *d, const char *name, const char **atts)
{
	int k = tw_noun_kind(name);

	if (!k)
		return tw_fail(p, 13215, "Dial: invalid nested element <%.40s>", name);
	twiml_noun *n = tw_dial_add(p, d, k);
	if (!n || tw_noun_start(p, n, atts))
		return -1;
	push(p, FR_NOUN, n, name, 1);
	return 0;
}

static int start_in_verb(tw_parser *p, tw_frame *up, const char *name, const char **atts)
{
	twiml_verb *v = up->obj;

	switch (v->kind) {
	case TWIML_SAY:
		return start_ssml(p, up, name);
	case TWIML_GATHER:
		return start_verb(p, &v->u.gather.verbs, &v->u.gather.n_verbs, name, atts, 1);
	case TWIML_DIAL:
		return start_in_dial(p, &v->u.dial, name, atts);
	case TWIML_REFER:
		if (strcmp(name, "Sip"))
			break;
		if (v->u.refer.target)
			return tw_fail(p, 12200, "Refer: only one <Sip> allowed");
		if (tw_set_str(p, &v->u.refer.target, "") ||
		    tw_apply_attrs(p, "Refer->Sip", no_attrs, NULL, atts, 12200))
			return -1;
		push(p, FR_REFER_SIP, &v->u.refer, name, 1);
		return 0;
	case TWIML_ENQUEUE:
		if (strcmp(name, "Task"))
			break;
		if (v->u.enqueue.task)
			return tw_fail(p, 12200, "Enqueue: only one <Task> allowed");
		if (tw_task_start(p, &v->u.enqueue, atts))
			return -1;
		push(p, FR_TASK, &v->u.enqueue, name, 1);
		return 0;
	default:
		if (v->kind >= TWIML_CONNECT)
			return start_node(p, &v->u.generic, name, atts);
		break;
	}
	return tw_fail(p, 12200, "%s: invalid nested element <%.40s>", twiml_verb_name(v->kind),
	               name);
}

static int start_in_noun(tw_parser *p, tw_frame *up, const char *name, const char **atts)
{
	twiml_noun *n = up->obj;
	twiml_client *c = &n->u.client;

	if (n->kind == TWIML_NOUN_APPLICATION || n->kind == TWIML_NOUN_WHATSAPP)
		return start_node(p, &n->u.generic, name, atts);
	if (n->kind == TWIML_NOUN_CLIENT && !strcmp(name, "Identity")) {
		if (c->identity)
			return tw_fail(p, 12200, "Client: only one <Identity> allowed");
		if (tw_set_str(p, &c->identity, "") ||
		    tw_apply_attrs(p, "Identity", no_attrs, NULL, atts, 12200))
			return -1;
		push(p, FR_IDENTITY, c, name, 1);
		return 0;
	}
	if (n->kind == TWIML_NOUN_CLIENT && !strcmp(name, "Parameter")) {
		if (tw_param_start(p, c, atts))
			return -1;
		push(p, FR_PARAM, c, name, 0);
		return 0;
	}
	return tw_fail(p, 12200, "Dial->%s: invalid nested element <%.40s>",
	               twiml_noun_name(n->kind), name);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	tw_parser *p = ud;

	if (p->failed)
		return;
	if (p->depth == TW_MAX_DEPTH) {
		tw_fail(p, 12200, "elements nested deeper than %d levels", TW_MAX_DEPTH);
		return;
	}
	if (p->depth == 0) {
		if (strcmp(name, "Response")) {
			tw_fail(p, 12102, "the root element must be <Response>, not <%.40s>", name);
			return;
		}
		if (tw_apply_attrs(p, "Response", no_attrs, NULL, atts, 12200))
			return;
		push(p, FR_RESPONSE, p->doc, name, 0);
		return;
	}
	tw_frame *up = &p->st[p->depth - 1];
	switch (up->type) {
	case FR_RESPONSE:
		start_verb(p, &p->doc->verbs, &p->doc->n_verbs, name, atts, 0);
		break;
	case FR_VERB:
		start_in_verb(p, up, name, atts);
		break;
	case FR_NOUN:
		start_in_noun(p, up, name, atts);
		break;
	case FR_SSML:
		start_ssml(p, up, name);
		break;
	case FR_GENERIC:
		start_node(p, up->obj, name, atts);
		break;
	default:
		tw_fail(p, 12200, "<%.40s> cannot contain elements (found <%.40s>)", up->name,
		        name);
		break;
	}
}

static int end_frame(tw_parser *p, tw_frame *f)
{
	twiml_client *c;
	twiml_refer *r;
	twiml_enqueue *e;
	twiml_node *n;

	switch (f->type) {
	case FR_VERB:
		return tw_verb_end(p, f->obj, f->in_gather, &f->text);
	case FR_NOUN:
		return tw_noun_end(p, f->obj, &f->text);
	case FR_SSML:
		if (ssml_breaks(f->name) && tw_buf_add(f->textp, " ", 1))
			return tw_fail(p, TW_OOM, "out of memory");
		return 0;
	case FR_IDENTITY:
		c = f->obj;
		tw_free(c->identity);
		if (!(c->identity = tw_buf_take(&f->text, 0)))
			return tw_fail(p, TW_OOM, "out of memory");
		return 0;
	case FR_REFER_SIP:
		r = f->obj;
		tw_free(r->target);
		if (!(r->target = tw_buf_take(&f->text, 0)))
			return tw_fail(p, TW_OOM, "out of memory");
		return tw_valid_sip_uri(p, r->target, 1, "Refer->Sip");
	case FR_TASK:
		e = f->obj;
		tw_free(e->task);
		if (!(e->task = tw_buf_take(&f->text, 0)))
			return tw_fail(p, TW_OOM, "out of memory");
		return 0;
	case FR_GENERIC:
		n = f->obj;
		if (!(n->text = tw_buf_take(&f->text, 0)))
			return tw_fail(p, TW_OOM, "out of memory");
		if (!*n->text) {
			tw_free(n->text);
			n->text = NULL;
		}
		return 0;
	default:
		return 0;
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	tw_parser *p = ud;

	(void)name;
	if (p->failed || p->depth == 0)
		return;
	tw_frame *f = &p->st[p->depth - 1];
	end_frame(p, f);
	tw_buf_free(&f->text);
	p->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	tw_parser *p = ud;

	if (p->failed || p->depth == 0 || len <= 0)
		return;
	tw_frame *f = &p->st[p->depth - 1];
	if (!f->textp) {
		if (!tw_all_ws(s, (size_t)len))
			tw_fail(p, 12200, "<%.40s> cannot contain text", f->name);
		return;
	}
	if (tw_buf_add(f->textp, s, (size_t)len))
		tw_fail(p, TW_OOM, "out of memory");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	tw_fail(ud, 12100, "DOCTYPE declarations are not allowed");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	tw_fail(ud, 12100, "entity declarations are not allowed");
}

static int XMLCALL on_external_entity(XML_Parser xp, const XML_Char *context, const XML_Char *base,
                                      const XML_Char *sysid, const XML_Char *pubid)
{
	(void)context;
	(void)base;
	(void)sysid;
	(void)pubid;
	tw_fail(XML_GetUserData(xp), 12100, "external entities are not allowed");
	return XML_STATUS_ERROR;
}

static twiml_doc *fail_early(twiml_error *err, int code, const char *msg)
{
	err->code = code;
	err->line = 0;
	snprintf(err->msg, sizeof err->msg, "%s", msg);
	return NULL;
}

static void xml_error(tw_parser *p)
{
	enum XML_Error e = XML_GetErrorCode(p->xp);

	p->failed = 1;
	p->err.line = (int)XML_GetErrorLineNumber(p->xp);
	if (e == XML_ERROR_NO_MEMORY) {
		p->err.code = TW_OOM;
		snprintf(p->err.msg, sizeof p->err.msg, "out of memory");
		return;
	}
	p->err.code = 12100;
	snprintf(p->err.msg, sizeof p->err.msg, "XML parse error: %s (line %lu, column %lu)",
	         XML_ErrorString(e), (unsigned long)XML_GetErrorLineNumber(p->xp),
	         (unsigned long)XML_GetErrorColumnNumber(p->xp));
}

static XML_Parser new_expat(tw_parser *p)
{
	static const XML_Memory_Handling_Suite mm = {tw_malloc, tw_realloc, tw_free};
	XML_Parser xp = XML_ParserCreate_MM(NULL, &mm, NULL);

	if (!xp)
		return NULL;
	XML_SetUserData(xp, p);
	XML_SetParamEntityParsing(xp, XML_PARAM_ENTITY_PARSING_NEVER);
	XML_SetStartDoctypeDeclHandler(xp, on_doctype);
	XML_SetEntityDeclHandler(xp, on_entity_decl);
	XML_SetExternalEntityRefHandler(xp, on_external_entity);
	XML_SetElementHandler(xp, on_start, on_end);
	XML_SetCharacterDataHandler(xp, on_text);
	return xp;
}

twiml_doc *twiml_parse(const char *xml, size_t len, twiml_error *err)
{
	twiml_error dummy;
	tw_parser p;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof *err);
	if (len > TWIML_MAX_DOC) {
		err->code = 11750;
		snprintf(err->msg, sizeof err->msg,
		         "TwiML response body too large (%zu bytes, max %d)", len, TWIML_MAX_DOC);
		return NULL;
	}
	if (!xml || !len)
		return fail_early(err, 12100, "XML parse error: empty document");
	memset(&p, 0, sizeof p);
	if (!(p.doc = tw_calloc(1, sizeof *p.doc)))
		return fail_early(err, TW_OOM, "out of memory");
	if (!(p.xp = new_expat(&p))) {
		twiml_free(p.doc);
		return fail_early(err, TW_OOM, "out of memory");
	}
	if (XML_Parse(p.xp, xml, (int)len, XML_TRUE) != XML_STATUS_OK && !p.failed)
		xml_error(&p);
	for (int i = 0; i < p.depth; i++)
		tw_buf_free(&p.st[i].text);
	XML_ParserFree(p.xp);
	if (!p.failed && !(p.doc->src = tw_malloc(len + 1))) {
		fail_early(&p.err, TW_OOM, "out of memory");
		p.failed = 1;
	}
	if (p.failed) {
		*err = p.err;
		twiml_free(p.doc);
		return NULL;
	}
	memcpy(p.doc->src, xml, len);
	p.doc->src[len] = 0;
	p.doc->src_len = len;
	return p.doc;
}
