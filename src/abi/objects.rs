//! Object management (PKCS#11 3.0 §5.7).

use cryptoki_sys::*;

use crate::abi::convert;
use crate::core;

pkcs11_fn! {
    fn C_CreateObject(hSession: CK_SESSION_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG, phObject: *mut CK_OBJECT_HANDLE) {
        let template = convert::template(pTemplate, ulCount)?;
        let out = convert::out(phObject)?;
        *out = core::library()?.session(hSession)?.create_object(&template)?;
        Ok(())
    }

    fn C_CopyObject(
        hSession: CK_SESSION_HANDLE,
        hObject: CK_OBJECT_HANDLE,
        pTemplate: *mut CK_ATTRIBUTE,
        ulCount: CK_ULONG,
        phNewObject: *mut CK_OBJECT_HANDLE,
    ) {
        let template = convert::template(pTemplate, ulCount)?;
        let out = convert::out(phNewObject)?;
        *out = core::library()?.session(hSession)?.copy_object(hObject, &template)?;
        Ok(())
    }

    fn C_DestroyObject(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE) {
        core::library()?.session(hSession)?.destroy_object(hObject)
    }

    fn C_GetObjectSize(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pulSize: *mut CK_ULONG) {
        let out = convert::out(pulSize)?;
        *out = core::library()?.session(hSession)?.object_size(hObject)?;
        Ok(())
    }

    fn C_GetAttributeValue(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG) {
        let session = core::library()?.session(hSession)?;
        convert::with_attribute_queries(pTemplate, ulCount, |queries| session.get_attributes(hObject, queries))
    }

    fn C_SetAttributeValue(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG) {
        let template = convert::template(pTemplate, ulCount)?;
        core::library()?.session(hSession)?.set_attributes(hObject, &template)
    }

    fn C_FindObjectsInit(hSession: CK_SESSION_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG) {
        let template = convert::template(pTemplate, ulCount)?;
        core::library()?.session(hSession)?.find_init(&template)
    }

    fn C_FindObjects(hSession: CK_SESSION_HANDLE, phObject: *mut CK_OBJECT_HANDLE, ulMaxObjectCount: CK_ULONG, pulObjectCount: *mut CK_ULONG) {
        let count = convert::out(pulObjectCount)?;
        if phObject.is_null() {
            return Err(crate::Rv::ARGUMENTS_BAD);
        }
        let found = core::library()?.session(hSession)?.find(ulMaxObjectCount as usize)?;
        std::ptr::copy_nonoverlapping(found.as_ptr(), phObject, found.len());
        *count = found.len() as CK_ULONG;
        Ok(())
    }

    fn C_FindObjectsFinal(hSession: CK_SESSION_HANDLE) {
        core::library()?.session(hSession)?.find_final()
    }
}
