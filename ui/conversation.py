"""The open conversation: which saved chat this tab shows (``?chat=<id>`` in the URL, so a reload reopens it),
its turns in ``st.session_state``, and the chat's rename / export / delete controls."""

from __future__ import annotations

import streamlit as st

from ui.chats import ChatStore, Turn, to_markdown

PARAM = "chat"


def current_chat_id() -> str | None:
    value = st.query_params.get(PARAM)
    return value or None


def new_chat() -> None:
    """Start an empty conversation (saved once its first question is asked); other tabs keep theirs."""
    if PARAM in st.query_params:
        del st.query_params[PARAM]
    st.session_state["turns"] = []
    st.session_state["loaded_chat"] = None


def open_chat(chat_id: str) -> None:
    st.query_params[PARAM] = chat_id


def turns(chats: ChatStore) -> list[Turn]:
    """This tab's turns, loaded from the store when the URL names another chat than the one shown."""
    wanted = current_chat_id()
    if st.session_state.get("loaded_chat") != wanted or "turns" not in st.session_state:
        if wanted and chats.get(wanted) is None:
            st.toast("That chat no longer exists; starting a new one.")
            new_chat()
            wanted = None
        st.session_state["turns"] = chats.turns(wanted) if wanted else []
        st.session_state["loaded_chat"] = wanted
    result: list[Turn] = st.session_state["turns"]
    return result


def record(chats: ChatStore, turn: Turn) -> int:
    """Save ``turn`` in the open chat (creating it on the first question); its position in the chat."""
    chat_id = current_chat_id()
    if chat_id is None or chats.get(chat_id) is None:
        chat_id = chats.create().id
        st.query_params[PARAM] = chat_id
        st.session_state["loaded_chat"] = chat_id
    seq = chats.add_turn(chat_id, turn)
    st.session_state.setdefault("turns", []).append(turn)
    return seq


def chat_actions(chats: ChatStore, chat_id: str) -> None:
    chat = chats.get(chat_id)
    if chat is None:
        return
    with st.expander("This chat", icon=":material/more_horiz:"):
        title = st.text_input("Title", value=chat.title, key=f"title-{chat_id}")
        if title != chat.title and st.button("Rename", key=f"rename-{chat_id}"):
            chats.rename(chat_id, title)
            st.rerun()
        st.download_button(
            "Export as Markdown", to_markdown(chat.title, chats.turns(chat_id)), file_name=f"newsdesk-{chat_id}.md",
            mime="text/markdown", icon=":material/download:", key=f"export-{chat_id}",
        )
        sure = st.checkbox("Yes, delete this chat", key=f"sure-{chat_id}")
        if st.button("Delete chat", key=f"delete-{chat_id}", disabled=not sure, icon=":material/delete:"):
            chats.delete(chat_id)
            new_chat()
            st.rerun()
